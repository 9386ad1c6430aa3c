import Synchronization

/// Warnings for the client (the `Warning: 299 - "..."` response headers kubectl prints), recorded
/// by whatever layer notices them during a request, as upstream's warning recorder does.
public final class WarningSink: Sendable {
    private let messages = Mutex<[String]>([])

    public init() {}

    public func record(_ message: String) {
        messages.withLock { if !$0.contains(message) { $0.append(message) } }
    }

    public var all: [String] { messages.withLock { $0 } }
}

public enum Warnings {
    /// The sink of the request being served, if the transport collects warnings.
    @TaskLocal public static var sink: WarningSink?

    public static func record(_ message: String) { sink?.record(message) }
}
