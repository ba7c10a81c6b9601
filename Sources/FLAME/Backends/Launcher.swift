public import FLAMEWire

/// Starts runner processes somewhere — a local fork, a cluster job, a pod — for a
/// ``LauncherBackend``: the only part a new kind of infrastructure has to write.
///
/// The launcher starts the process with ``LaunchRequest/environment`` (which carries
/// `FLAME_PARENT`: the listener's address, the runner's id and token) and reports where it
/// runs. The runner dials the backend's ``RunnerListener``; the backend checks its hello and
/// the pool's `bootTimeout` bounds the whole boot.
public protocol RunnerLauncher: Sendable {
    /// The build identity runners must report: that of the executable they will run.
    var buildID: String { get }
    /// True when launched runners are children of this process, so a runner can also check
    /// that its parent is alive by pid (a cluster job's parent is the cluster's daemon).
    var launchesChildren: Bool { get }
    /// Starts one runner and returns once its process exists (not once it has connected).
    /// Errors should be ``FLAMEError``s with code `bootFailed` and the infrastructure's reason.
    func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner
}

/// What a launcher needs to start one runner, and where it reports what the process does.
public struct LaunchRequest: Sendable {
    public var spec: RunnerSpec
    /// Variables the runner needs (`FLAME_PARENT` among them), on top of its own environment.
    public var environment: [String: String]
    /// A line the process wrote to stdout or stderr, when the launcher can see them.
    public let output: @Sendable (String, OutputStream) -> Void
    /// The process is gone; `how` says how ("exited with status 0", "was killed by signal 9
    /// (SIGKILL)", "job 42 was cancelled"). Called exactly once, after the last `output`.
    public let ended: @Sendable (_ how: String) -> Void
    /// While the runner has not said hello: what its boot waits for, in the
    /// infrastructure's words ("job 42 is pending: Resources"). A boot timeout names it.
    public let progress: @Sendable (_ status: String) -> Void

    public init(
        spec: RunnerSpec, environment: [String: String], output: @escaping @Sendable (String, OutputStream) -> Void,
        progress: @escaping @Sendable (String) -> Void = { _ in }, ended: @escaping @Sendable (String) -> Void
    ) {
        self.spec = spec
        self.environment = environment
        self.output = output
        self.progress = progress
        self.ended = ended
    }
}

/// A runner process a launcher started.
public protocol LaunchedRunner: Sendable {
    /// Its process id on its host, when the launcher knows it (the runner's hello says it
    /// too, and wins).
    var pid: Int32? { get }
    /// Where it runs: `local` for this machine, a host or node name, or nil when only the
    /// runner knows (a cluster places it): then its hello's `host` is shown.
    var host: String? { get }
    /// The cluster's handle on it (a job id), when the launcher knows one before the hello.
    var clusterJob: String? { get }
    /// The runner's verified hello arrived: what it says of itself (pid, host, cluster job).
    func connected(_ hello: RunnerHello)
    /// Ends it now, whatever it is doing (SIGKILL, `scancel`, …). Its `ended` follows.
    func kill()
}

extension LaunchedRunner {
    public var clusterJob: String? { nil }
    public func connected(_ hello: RunnerHello) {}
}
