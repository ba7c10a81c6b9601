/// The state of one runner as operators see it.
public enum RunnerState: String, Sendable, Codable {
    case booting, idle, busy, draining, exiting
}

/// One runner of a pool, at the moment of ``Pool/status()``.
public struct RunnerStatus: Sendable, Equatable {
    public var id: String
    public var state: RunnerState
    public var pid: Int32?
    /// Where it runs: `local`, a cluster node's name, or `-` while it boots (a cluster may
    /// not have placed it yet).
    public var host: String
    /// The cluster's handle on what holds the runner (a Slurm job id), when it has one.
    public var clusterJob: String?
    /// CPU over the last heartbeat interval, in percent of one core.
    public var cpuPercent: Double
    public var residentBytes: UInt64
    /// Calls and child services running on it.
    public var inFlight: Int
    public var children: Int
    public var completed: Int
    public var failed: Int
    public var uptime: Duration
    /// The last error a call saw on this runner.
    public var lastError: String?
}

/// A pool at the moment of ``Pool/status()``.
public struct PoolStatus: Sendable, Equatable {
    public var name: String
    public var min: Int
    public var max: Int
    public var maxConcurrency: Int
    public var runners: [RunnerStatus]
    /// Callers waiting for a runner.
    public var queueDepth: Int
    public var pendingBoots: Int
    public var callsCompleted: Int
    public var callsFailed: Int
    public var callsTimedOut: Int
    /// Latency of answered calls over the last 60 s.
    public var latency: LatencySummary
    /// Boot latency (launch to accepted hello) over the last 10 minutes.
    public var bootLatency: LatencySummary
    /// The last runners that exited, whose output is still kept (oldest first).
    public var exitedRunners: [ExitedRunnerStatus] = []
}

/// A runner that exited, at the moment of ``Pool/status()``: its output stays readable
/// (``Pool/outputSource(ofRunner:)``) for the last ``PoolConfiguration/exitedRunnersKept``.
public struct ExitedRunnerStatus: Sendable, Equatable {
    public var id: String
    /// Why it exited (or failed to boot).
    public var reason: String
    public var since: Duration
}

extension Pool {
    /// What the pool looks like now: limits, runners with their usage, queue and counters.
    public func status() -> PoolStatus {
        accountForFinishedCalls()
        let now = ContinuousClock.now
        let runners = Array(machine.runners.inBootOrder).map { runner -> RunnerStatus in
            let id = runner.id
            let usage = monitors[id]?.lastUsage ?? RunnerUsage()
            let state: RunnerState =
                switch runner.phase {
                case .booting: .booting
                case .ready: runner.inFlight > 0 ? .busy : .idle
                case .draining: .draining
                case .exiting: .exiting
                }
            return RunnerStatus(
                id: id, state: state, pid: links[id]?.pid, host: links[id]?.host ?? "-", clusterJob: links[id]?.clusterJob,
                cpuPercent: usage.cpuPercent, residentBytes: usage.residentBytes,
                inFlight: runner.inFlight, children: runner.children, completed: runner.completed,
                failed: runner.failed, uptime: monitors[id].map { now - $0.startedAt } ?? .zero,
                lastError: lastErrors[id])
        }
        return PoolStatus(
            name: name, min: machine.limits.min, max: machine.limits.max,
            maxConcurrency: machine.limits.maxConcurrency, runners: runners,
            queueDepth: machine.queueDepth, pendingBoots: machine.pendingBoots,
            callsCompleted: machine.callsCompleted, callsFailed: machine.callsFailed,
            callsTimedOut: machine.callsTimedOut, latency: telemetry.callLatency.summary(at: now),
            bootLatency: telemetry.bootLatency.summary(at: now),
            exitedRunners: retired.runners.map { ExitedRunnerStatus(id: $0.id, reason: $0.exit.message, since: now - $0.exitedAt) })
    }

    /// The last lines runner `id` wrote to stdout/stderr, and how many older ones were
    /// dropped; also for one of the last runners that exited. Nil for an unknown runner.
    public func output(ofRunner id: String) -> (lines: [OutputLine], dropped: Int)? {
        outputSource(ofRunner: id)?.buffer.contents()
    }

    /// The output buffer of runner `id`, for followers (the admin socket's `logs -f`), and
    /// why it exited when it has (``PoolConfiguration/exitedRunnersKept`` exited runners
    /// stay readable). Nil for an unknown runner.
    public func outputSource(ofRunner id: String) -> (buffer: LineRing<OutputLine>, exit: FLAMEError?)? {
        if let monitor = monitors[id] { return (monitor.output, nil) }
        return retired.find(id).map { ($0.output, $0.exit) }
    }

    /// Changes `min` and/or `max` of the running pool. Raising `min` boots runners; lowering
    /// `max` drains the surplus once their work is done — nothing in flight is killed.
    public func scale(min: Int? = nil, max: Int? = nil) throws(FLAMEError) {
        accountForFinishedCalls()
        let actions = try machine.scaleRequested(min: min, max: max, now: .now)
        logger.info("pool scaled", metadata: ["min": "\(machine.limits.min)", "max": "\(machine.limits.max)"])
        publish(.scaled, runner: nil, "pool \(name) scaled to min \(machine.limits.min), max \(machine.limits.max)")
        perform(actions)
    }

    /// Drains one runner: it finishes what it runs, takes nothing new, then exits. A runner
    /// still booting runs nothing: its boot is cancelled (and a caller waiting for it gets
    /// another).
    public func drain(runner id: String) throws(FLAMEError) {
        accountForFinishedCalls()
        guard let actions = machine.drainRequested(runner: id, now: .now) else {
            throw FLAMEError(.unknownRunner, "pool \(name) has no runner \(id)")
        }
        let bootCancelled = actions.contains { if case .abortBoot(id, _) = $0 { true } else { false } }
        publish(.drained, runner: id, bootCancelled ? "runner \(id) drained while booting: boot cancelled" : "runner \(id) draining")
        perform(actions)
    }

    /// Drains every runner; new calls boot fresh ones.
    public func drain() {
        accountForFinishedCalls()
        publish(.drained, runner: nil, "pool \(name) draining all runners")
        perform(machine.drainAllRequested(now: .now))
    }

    /// Kills runner `id` now; its calls fail with ``FLAMEError/Code/runnerKilled``.
    public func kill(runner id: String, reason: String = "killed by request") throws(FLAMEError) {
        accountForFinishedCalls()
        guard let actions = machine.killRequested(runner: id, reason: reason, now: .now) else {
            throw FLAMEError(.unknownRunner, "pool \(name) has no runner \(id)")
        }
        perform(actions)
    }
}
