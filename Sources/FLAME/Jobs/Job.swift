/// A unit of work that runs in a runner process.
///
/// A job is a `Codable` value: the parent encodes its fields, the runner (the same
/// executable) decodes them into the same type and calls ``run()``. Because only the fields
/// travel, a job states explicitly what it needs; resources of the app (configuration, a
/// database pool) are reached through ``Resources`` on the runner.
///
/// The job type must be `internal` or `public` and declared at file scope or nested in
/// another such type: `private`, `fileprivate` and function-local types have no stable name
/// across processes and are refused with ``FLAMEError/Code/invalidJobType``.
///
/// ```swift
/// struct Resize: Job {
///     var path: String
///     func run() async throws -> Int { try await Thumbnailer.shared.resize(path) }
/// }
/// let bytes = try await pool.call(Resize(path: "a.jpg"))
/// ```
public protocol Job<Output>: Codable, Sendable {
    associatedtype Output: Codable & Sendable
    /// Does the work, on the runner. Cancellation of the caller's task (or the call's
    /// timeout) cancels the task this runs in.
    func run() async throws -> Output
}

/// A job short enough to run on the runner's reader thread, without a hand-off.
///
/// An ordinary job's call is handed from the thread that reads it to Swift's cooperative
/// pool, where jobs run in parallel on every core. An `InlineJob` runs on the reader itself,
/// right after its request is read: one thread wake-up less per call, which on a busy
/// runner is a good part of a call's cost. Conform only jobs that finish in microseconds
/// and never block: while one runs, its runner reads nothing else, so a slow or CPU-bound
/// inline job holds up every other call on that runner (and gains nothing from parallel
/// cores). Awaiting inside one is fine, but what follows a suspension, a `Task.yield()` and
/// any child tasks (`async let`, task groups) run on the cooperative pool like an ordinary
/// job: the gain is for jobs that do not suspend.
///
/// ```swift
/// struct Lookup: InlineJob {
///     var key: String
///     func run() async throws -> String? { Cache.shared[key] }
/// }
/// ```
public protocol InlineJob<Output>: Job {}

/// A long-lived service placed on a runner with ``Pool/placeChild(_:)``.
///
/// `run()` should keep running until its task is cancelled; the runner stays up (it is not
/// idle) while the service runs. The service stops when its ``ChildHandle`` says so, when it
/// returns or throws, or when its runner goes away.
public protocol ChildService: Codable, Sendable {
    func run() async throws
}

/// A job with no output, for work whose completion is all that matters.
public struct NoOutput: Codable, Sendable, Equatable {
    public init() {}
}
