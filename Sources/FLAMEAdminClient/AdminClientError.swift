/// Why the admin client failed; each case maps to one `flamectl` exit code.
public enum AdminClientError: Error, CustomStringConvertible, Equatable {
    /// No socket to talk to (exit 3): the path tried and why.
    case cannotConnect(path: String, reason: String)
    /// The parent refused or failed the request (exit 1).
    case refused(String)
    /// The parent went away mid-conversation (exit 3).
    case disconnected(String)
    /// Several parents run and none was chosen (exit 2).
    case ambiguous(String)
    /// The socket, its directory or the process serving it is not this user's (exit 3):
    /// nothing was sent to it.
    case untrusted(path: String, reason: String)
    /// The parent did not answer in time (exit 3): stopped, hung, or drowning.
    case timedOut(path: String, after: Duration)

    /// The exit code the admin tools use for this error: 1 refused, 2 usage, 3 cannot connect.
    public var exitCode: Int32 {
        switch self {
        case .refused: 1
        case .ambiguous: 2
        case .cannotConnect, .disconnected, .untrusted, .timedOut: 3
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let path, let reason): "cannot connect to \(path): \(reason)"
        case .refused(let message): message
        case .disconnected(let message): message
        case .ambiguous(let message): message
        case .untrusted(let path, let reason): "refusing to use the admin socket \(path): \(reason)"
        case .timedOut(let path, let after):
            "the parent at \(path) did not answer within \(after) (is it stopped, or hung? a live process can be stopped with kill -STOP)"
        }
    }
}
