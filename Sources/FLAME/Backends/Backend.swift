public import FLAMEWire

/// Where runners come from: a local process, a cluster job, or (for tests) the parent itself.
///
/// A backend launches a runner and completes the handshake (the runner proves its token and
/// build identity) before `boot` returns; from then on the pool talks to the runner through
/// the returned ``RunnerLink`` and hears from it through the ``RunnerEventHandler``.
public protocol Backend: Sendable {
    /// Launches the runner described by `spec` and returns once it is accepted.
    ///
    /// Task cancellation aborts the boot and must leave no process behind. Errors should be
    /// ``FLAMEError``s with code `bootFailed` or `buildMismatch`.
    func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink
}

/// What a backend needs to know to launch one runner.
public struct RunnerSpec: Sendable {
    /// Unique within the parent: `pool-N`.
    public var runnerID: String
    public var poolName: String
    public var heartbeatInterval: Duration
    /// How long a graceful stop may take before the runner is killed.
    public var shutdownTimeout: Duration

    public init(runnerID: String, poolName: String, heartbeatInterval: Duration, shutdownTimeout: Duration) {
        self.runnerID = runnerID
        self.poolName = poolName
        self.heartbeatInterval = heartbeatInterval
        self.shutdownTimeout = shutdownTimeout
    }
}

/// The parent's handle on one booted runner.
public protocol RunnerLink: Sendable {
    /// The runner's process id on its host, when it has one.
    var pid: Int32? { get }
    /// Where the runner runs: `local` for this machine, else a host or cluster node name.
    var host: String { get }
    /// The cluster's handle on what holds the runner (a Slurm job id), when it has one.
    var clusterJob: String? { get }
    /// Sends a message; a link that is gone drops it (its exit is reported separately).
    func send(_ message: ParentMessage)
    /// Graceful stop: asks the runner to finish what it runs, stop its children and exit.
    /// (The pool kills it if it has not exited within `shutdownTimeout`.)
    func stop()
    /// Kills the runner now (SIGKILL for a process).
    func kill()
}

extension RunnerLink {
    public var clusterJob: String? { nil }
}

/// Which stream a runner's output line came from.
public enum OutputStream: String, Sendable, Codable {
    case stdout, stderr
}

/// What a runner link reports. Calls may come from any thread; `exited` comes exactly once,
/// last, after the process is reaped.
public protocol RunnerEventHandler: Sendable {
    /// A result, child exit or heartbeat from the runner.
    func received(_ message: RunnerMessage)
    /// A line the runner wrote to stdout or stderr.
    func output(_ line: String, stream: OutputStream)
    /// The runner is gone; `reason` names the exit status or signal.
    func exited(_ reason: FLAMEError)
    /// While it boots: what the boot waits for, in the infrastructure's words ("job 42 is
    /// pending: Resources"). A boot that times out names the last one.
    func bootProgress(_ status: String)
}

extension RunnerEventHandler {
    public func bootProgress(_ status: String) {}
}
