import APIMachinery
import Hummingbird
import NIOCore
import Registry
import Resources

/// A watch as a streamed response: one JSON event per line, flushed as it happens, as plain
/// objects or as one-row Tables (the first carrying the column definitions).
enum WatchStream {
    static func response(_ events: AsyncStream<WatchEvent>, def: ResourceDefinition, table: Bool, includeObject: String?) -> Response {
        let body = ResponseBody { writer in
            var first = true
            for await event in events {
                var object = event.object
                if table, event.type != "ERROR", event.type != "BOOKMARK" {
                    object = TableConvertor.table([event.object], def, includeObject: includeObject,
                                                  metadata: ["resourceVersion": event.object["metadata"]["resourceVersion"]], headers: first)
                    first = false
                }
                var line = JSON.object(["type": .string(event.type), "object": object]).serialized()
                line.append(UInt8(ascii: "\n"))
                try await writer.write(ByteBuffer(bytes: line))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache, private"], body: body)
    }
}
