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
    /// How often the queue is asked why a pending runner's job waits.
    public var pendingPollInterval: Duration

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

/// The Slurm client programs the launcher runs.
public struct SlurmCommands: Sendable {
    public var srun: String
    public var scancel: String
    public var squeue: String

    public init(srun: String? = nil, scancel: String? = nil, squeue: String? = nil) {
        self.srun = srun ?? Self.onPath("srun")
        self.scancel = scancel ?? Self.onPath("scancel")
        self.squeue = squeue ?? Self.onPath("squeue")
    }

    /// The first executable `name` on `PATH` (else `/usr/bin/name`, which fails clearly).
    static func onPath(_ name: String) -> String {
        let path = ProcessEnvironment.value(of: "PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if ProcessEnvironment.isExecutable(candidate) { return candidate }
        }
        return "/usr/bin/\(name)"
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
