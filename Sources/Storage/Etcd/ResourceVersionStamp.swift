import Foundation

/// Puts `metadata.resourceVersion` into an object's stored JSON, as upstream's etcd3 store sets it
/// from the key's mod_revision on every read: the bytes in etcd carry none, since the revision a
/// write takes is known only once etcd has applied it.
///
/// The field goes first in `metadata` (key order means nothing in JSON); finding `metadata` takes
/// one pass over the top-level fields before it, skipping their values unparsed.
enum ResourceVersionStamp {
    static func stamp(_ value: Data, revision: Int64) -> Data {
        let field = Array("\"resourceVersion\":\"\(revision)\"".utf8)
        guard let (at, empty) = metadataStart(value) else { return value }
        var out = Data(capacity: value.count + field.count + 1)
        out.append(value.prefix(upTo: value.startIndex + at))
        out.append(contentsOf: field)
        if !empty { out.append(UInt8(ascii: ",")) }
        out.append(value.suffix(from: value.startIndex + at))
        return out
    }

    /// The offset just after `"metadata":{` at the top level, and whether that object is empty.
    static func metadataStart(_ value: Data) -> (Int, Bool)? {
        value.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> (Int, Bool)? in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0
            func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
            /// Past a string starting at i (a quote); returns its start and end (exclusive) offsets.
            func skipString() -> Range<Int>? {
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
                let start = i + 1
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < b.count else { return nil }
                i += 1
                return start..<(i - 1)
            }
            func skipValue() -> Bool {
                skipSpace()
                guard i < b.count else { return false }
                switch b[i] {
                case UInt8(ascii: "\""): return skipString() != nil
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    var depth = 0
                    while i < b.count {
                        switch b[i] {
                        case UInt8(ascii: "\""): if skipString() == nil { return false }; continue
                        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                        case UInt8(ascii: "}"), UInt8(ascii: "]"):
                            depth -= 1
                            if depth == 0 { i += 1; return true }
                        default: break
                        }
                        i += 1
                    }
                    return false
                default:
                    while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}") { i += 1 }
                    return true
                }
            }
            let metadata = Array("metadata".utf8)
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            while true {
                skipSpace()
                guard let key = skipString() else { return nil }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                skipSpace()
                if key.count == metadata.count, zip(b[key], metadata).allSatisfy({ $0 == $1 }) {
                    guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
                    i += 1
                    let open = i
                    skipSpace()
                    return (open, i < b.count && b[i] == UInt8(ascii: "}"))
                }
                guard skipValue() else { return nil }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
    }
}
