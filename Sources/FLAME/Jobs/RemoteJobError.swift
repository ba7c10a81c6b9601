/// An error thrown by a job's `run()` on the runner, delivered to the caller.
///
/// Carries the original error's type name and description; when the error type is
/// `Codable` (and internal or public), ``underlying`` is the decoded original, so callers can
/// `catch let error as RemoteJobError where error.underlying is MyError`.
public struct RemoteJobError: Error, Sendable, CustomStringConvertible {
    /// The fully qualified Swift type name of the thrown error, e.g. `MyApp.ResizeError`.
    public let typeName: String
    /// `String(describing:)` of the thrown error, taken on the runner.
    public let message: String
    /// The thrown error itself, when its type is `Codable` and resolvable in this process.
    public let underlying: (any Error & Sendable)?

    public init(typeName: String, message: String, underlying: (any Error & Sendable)? = nil) {
        self.typeName = typeName
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "\(typeName): \(message)" }
}
