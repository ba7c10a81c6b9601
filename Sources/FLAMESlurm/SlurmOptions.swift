import FLAME

/// How ``SlurmLauncher`` submits runners: the `srun` options a user of a cluster expects.
///
/// Every option has a default that works on a cluster with a default partition and a file
/// system shared between this host and the nodes (the runner is this very executable, at
/// the same path). Values are passed as separate arguments, never through a shell.
public struct SlurmOptions: Sendable {
    /// `--partition`; nil submits to the cluster's default partition.
    public var partition: String?
    /// `--time`: how long a runner's job may run before Slurm ends it (the pool then boots
    /// a replacement as needed); nil takes the partition's default.
    public var timeLimit: Duration?
    /// `--cpus-per-task`: cores reserved for each runner.
    public var cpusPerRunner: Int
    /// `--mem`, in megabytes; nil takes the partition's default.
    public var memoryPerRunnerMegabytes: Int?
    /// Each job is named this followed by the runner id (`flame-thumbnails-3`), as `squeue`
    /// shows it.
    public var jobNamePrefix: String
    /// More `srun` arguments, after the ones above (`--account=…`, `--qos=…`,
    /// `--constraint=…`, `--chdir=…`).
    public var extraArguments: [String]
    /// The runner executable's path on the nodes; nil means this process's own path (a
    /// shared file system, or a copy at the same path on every node).
    public var executable: String?
    /// Its arguments; nil means this process's own, as the local backend does.
    public var arguments: [String]?
    /// Extra environment for runners, on top of this process's (srun exports it all).
    public var environment: [String: String]
    /// Where `srun`, `scancel` and `squeue` are; by default found on `PATH`.
    public var commands: SlurmCommands
    /// How often the queue is asked why a pending runner's job waits (at least 100 ms).
    public var pendingPollInterval: Duration

    /// Options with the defaults above; see each property.
    public init(
        partition: String? = nil, timeLimit: Duration? = nil, cpusPerRunner: Int = 1, memoryPerRunnerMegabytes: Int? = nil,
        jobNamePrefix: String = "flame-", extraArguments: [String] = [], executable: String? = nil, arguments: [String]? = nil,
        environment: [String: String] = [:], commands: SlurmCommands = SlurmCommands(), pendingPollInterval: Duration = .seconds(1)
    ) {
        self.partition = partition
        self.timeLimit = timeLimit
        self.cpusPerRunner = cpusPerRunner
        self.memoryPerRunnerMegabytes = memoryPerRunnerMegabytes
        self.jobNamePrefix = jobNamePrefix
        self.extraArguments = extraArguments
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.commands = commands
        self.pendingPollInterval = pendingPollInterval
    }
}

extension SlurmOptions {
    /// What is wrong with these options, if anything (a launch then fails saying so).
    var problem: String? {
        if cpusPerRunner < 1 { return "cpusPerRunner must be at least 1, got \(cpusPerRunner)" }
        if let memory = memoryPerRunnerMegabytes, memory < 1 { return "memoryPerRunnerMegabytes must be at least 1, got \(memory)" }
        if let limit = timeLimit, limit <= .zero { return "timeLimit must be positive, got \(limit)" }
        return nil
    }
}

/// The Slurm client programs the launcher runs.
public struct SlurmCommands: Sendable {
    /// Starts each runner's job.
    public var srun: String
    /// Cancels a runner's job when the pool kills the runner.
    public var scancel: String
    /// Says why pending runner jobs wait.
    public var squeue: String

    /// Each program at the path given, else the first on `PATH` (else `/usr/bin/NAME`, which
    /// then fails clearly).
    public init(srun: String? = nil, scancel: String? = nil, squeue: String? = nil) {
        self.srun = srun ?? ProcessEnvironment.onPath("srun") ?? "/usr/bin/srun"
        self.scancel = scancel ?? ProcessEnvironment.onPath("scancel") ?? "/usr/bin/scancel"
        self.squeue = squeue ?? ProcessEnvironment.onPath("squeue") ?? "/usr/bin/squeue"
    }
}

extension Duration {
    /// As Slurm's `--time` takes it: `days-hours:minutes:seconds`, rounded up to a second.
    var slurmTimeLimit: String {
        let (seconds, attoseconds) = components
        let total = max(1, seconds + (attoseconds > 0 ? 1 : 0))
        let days = total / 86_400, hours = total / 3600 % 24, minutes = total / 60 % 60, rest = total % 60
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days)-\(two(hours)):\(two(minutes)):\(two(rest))"
    }
}
