import APIMachinery
import Hummingbird
import NIOCore
import Registry
import Resources
import ServiceLifecycle

/// A watch as a streamed response: one JSON event per line, flushed as it happens, as plain
/// objects or as one-row Tables (the first carrying the column definitions).
enum WatchStream {
    static func response(_ events: AsyncStream<WatchEvent>, def: ResourceDefinition, table: Bool, includeObject: String?) -> Response {
        let body = ResponseBody { writer in
            // What the watch held (events queued for a client that stopped reading) is free
            // once the response ends; after many end, the process goes back to its size.
            defer { FreeMemory.trimSoon() }
            var first = true
            // On SIGTERM the server drains its connections; a watch would never end by itself, so
            // it ends here and the client re-lists, as against an apiserver that shuts down.
            let stream = events.cancelOnGracefulShutdown()
            for await event in stream {
                var line: [UInt8]
                if table, event.type != "ERROR", event.type != "BOOKMARK" {
                    let object = event.object
                    let t = TableConvertor.table([object], def, includeObject: includeObject,
                                                 metadata: ["resourceVersion": object["metadata"]["resourceVersion"]], headers: first)
                    first = false
                    line = JSON.object(["type": .string(event.type), "object": t]).serialized()
                } else {
                    switch event.payload {
                    case .json(let object):
                        line = JSON.object(["type": .string(event.type), "object": object]).serialized()
                    case .serialized(let bytes):
                        line = Array("{\"type\":\"\(event.type)\",\"object\":".utf8)
                        line += bytes
                        line.append(UInt8(ascii: "}"))
                    }
                }
                line.append(UInt8(ascii: "\n"))
                try await writer.write(ByteBuffer(bytes: line))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }
}
