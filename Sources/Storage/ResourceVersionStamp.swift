import Foundation

/// Puts `metadata.resourceVersion` into an object's stored JSON without parsing the rest of it:
/// as upstream's etcd3 store sets it from the key's mod_revision on every read (the bytes in etcd
/// carry none, since the revision a write takes is known only once etcd has applied it), and when
/// a restored snapshot's objects take new revisions.
///
/// Finding `metadata` takes one pass over the top-level fields before it, skipping their values
/// unparsed; key order means nothing in JSON, so a new field goes first in `metadata`.
enum ResourceVersionStamp {
    /// Adds the field to bytes that have none.
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

    /// Replaces the field's value (or adds the field when there is none).
    static func restamp(_ value: Data, revision: Int64) -> Data {
        guard let range = resourceVersionValue(value) else { return stamp(value, revision: revision) }
        var out = Data(capacity: value.count + 8)
        out.append(value.prefix(upTo: value.startIndex + range.lowerBound))
        out.append(contentsOf: Array("\"\(revision)\"".utf8))
        out.append(value.suffix(from: value.startIndex + range.upperBound))
        return out
    }

    /// The offset just after `"metadata":{` at the top level, and whether that object is empty.
    static func metadataStart(_ value: Data) -> (Int, Bool)? {
        value.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            guard let open = scanner.enterMember("metadata", at: 0) else { return nil }
            scanner.skipSpace()
            return (open, scanner.peek(UInt8(ascii: "}")))
        }
    }

    /// Where the value of `metadata.resourceVersion` lies (quotes included), if it is there.
    static func resourceVersionValue(_ value: Data) -> Range<Int>? {
        value.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            guard scanner.enterMember("metadata", at: 0) != nil, scanner.findMember("resourceVersion") else { return nil }
            let start = scanner.i
            guard scanner.skipValue() else { return nil }
            return start..<scanner.i
        }
    }

    /// A forward pass over JSON bytes that steps over values without building them.
    struct Scanner {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { b = bytes }

        func peek(_ byte: UInt8) -> Bool { i < b.count && b[i] == byte }

        mutating func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }

        /// Past a string starting at i (a quote); returns its contents' start and end offsets.
        mutating func skipString() -> Range<Int>? {
            guard peek(UInt8(ascii: "\"")) else { return nil }
            let start = i + 1
            i += 1
            while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
            guard i < b.count else { return nil }
            i += 1
            return start..<(i - 1)
        }

        mutating func skipValue() -> Bool {
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
                while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]") { i += 1 }
                return true
            }
        }

        /// Inside an object (just past its `{`): moves to the value of member `name`; false when
        /// the object ends without it.
        mutating func findMember(_ name: String) -> Bool {
            let wanted = Array(name.utf8)
            while true {
                skipSpace()
                guard let key = skipString() else { return false }
                skipSpace()
                guard peek(UInt8(ascii: ":")) else { return false }
                i += 1
                skipSpace()
                if key.count == wanted.count, zip(b[key], wanted).allSatisfy({ $0 == $1 }) { return true }
                guard skipValue() else { return false }
                skipSpace()
                guard peek(UInt8(ascii: ",")) else { return false }
                i += 1
            }
        }

        /// From the object starting at `offset`, into member `name`'s object: returns the offset
        /// just past that object's `{`.
        mutating func enterMember(_ name: String, at offset: Int) -> Int? {
            i = offset
            skipSpace()
            guard peek(UInt8(ascii: "{")) else { return nil }
            i += 1
            guard findMember(name), peek(UInt8(ascii: "{")) else { return nil }
            i += 1
            return i
        }
    }
}
