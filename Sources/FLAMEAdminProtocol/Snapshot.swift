/// A parent's state at one moment: the admin protocol's `snapshot`, `flamectl status --json`
/// and `flame-top --once --json`. Field names are a contract (docs/ADMIN-PROTOCOL.md); fields
/// may be added. Durations in microseconds, memory in bytes, CPU in percent of one core.
public struct Snapshot: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var app: String
    public var pid: Int32
    public var uptimeSeconds: Double
    public var pools: [PoolSnapshot]

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol", app, pid, uptimeSeconds, pools
    }

    public init(protocolVersion: Int = adminProtocolVersion, app: String, pid: Int32, uptimeSeconds: Double, pools: [PoolSnapshot]) {
        self.protocolVersion = protocolVersion
        self.app = app
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.pools = pools
    }
}

public struct PoolSnapshot: Codable, Sendable, Equatable {
    public var name: String
    public var min: Int
    public var max: Int
    public var maxConcurrency: Int
    /// Callers waiting for a runner.
    public var queueDepth: Int
    public var pendingBoots: Int
    public var calls: CallCounts
    /// Answered calls over the last 60 s.
    public var latency: Latency
    public var bootLatency: BootLatency
    public var runners: [RunnerSnapshot]
    /// The pool's last exited runners whose output is still kept (`logs` reads it), newest
    /// last; absent when there are none.
    public var exited: [ExitedRunnerSnapshot]?

    public init(
        name: String, min: Int, max: Int, maxConcurrency: Int, queueDepth: Int, pendingBoots: Int, calls: CallCounts,
        latency: Latency, bootLatency: BootLatency, runners: [RunnerSnapshot], exited: [ExitedRunnerSnapshot]? = nil
    ) {
        self.exited = exited
        self.name = name
        self.min = min
        self.max = max
        self.maxConcurrency = maxConcurrency
        self.queueDepth = queueDepth
        self.pendingBoots = pendingBoots
        self.calls = calls
        self.latency = latency
        self.bootLatency = bootLatency
        self.runners = runners
    }

    public struct CallCounts: Codable, Sendable, Equatable {
        public var completed: Int
        public var failed: Int
        public var timedOut: Int
        public init(completed: Int, failed: Int, timedOut: Int) {
            self.completed = completed
            self.failed = failed
            self.timedOut = timedOut
        }
    }

    public struct Latency: Codable, Sendable, Equatable {
        public var p50Us: UInt64
        public var p95Us: UInt64
        public var p99Us: UInt64
        public var maxUs: UInt64
        public init(p50Us: UInt64, p95Us: UInt64, p99Us: UInt64, maxUs: UInt64) {
            self.p50Us = p50Us
            self.p95Us = p95Us
            self.p99Us = p99Us
            self.maxUs = maxUs
        }
    }

    public struct BootLatency: Codable, Sendable, Equatable {
        public var p50Us: UInt64
        public var maxUs: UInt64
        public init(p50Us: UInt64, maxUs: UInt64) {
            self.p50Us = p50Us
            self.maxUs = maxUs
        }
    }
}

/// A runner that has exited, whose output the parent still keeps.
public struct ExitedRunnerSnapshot: Codable, Sendable, Equatable {
    public var id: String
    /// Why it exited (or failed to boot).
    public var reason: String
    public var exitedSecondsAgo: Double

    public init(id: String, reason: String, exitedSecondsAgo: Double) {
        self.id = id
        self.reason = reason
        self.exitedSecondsAgo = exitedSecondsAgo
    }
}

public struct RunnerSnapshot: Codable, Sendable, Equatable {
    public var id: String
    /// `booting`, `idle`, `busy`, `draining` or `exiting`.
    public var state: String
    public var pid: Int32?
    /// Where it runs: `local`, or the cluster node's name.
    public var host: String
    /// The cluster job holding it (a Slurm job id); absent for local runners.
    public var clusterJob: String?
    public var cpuPercent: Double
    public var rssBytes: UInt64
    public var inFlight: Int
    public var completed: Int
    public var failed: Int
    public var uptimeSeconds: Double
    public var lastError: String?

    public init(
        id: String, state: String, pid: Int32?, host: String, cpuPercent: Double, rssBytes: UInt64, inFlight: Int,
        completed: Int, failed: Int, uptimeSeconds: Double, lastError: String?, clusterJob: String? = nil
    ) {
        self.id = id
        self.clusterJob = clusterJob
        self.state = state
        self.pid = pid
        self.host = host
        self.cpuPercent = cpuPercent
        self.rssBytes = rssBytes
        self.inFlight = inFlight
        self.completed = completed
        self.failed = failed
        self.uptimeSeconds = uptimeSeconds
        self.lastError = lastError
    }
}

extension RunnerSnapshot {
    /// Where it runs, in one short cell: `local`, a node (`n1`), or a node and its cluster
    /// job (`n1 #42`).
    public var placement: String {
        guard let job = clusterJob, !job.isEmpty else { return host }
        return "\(host) #\(job)"
    }
}
