public import FLAME
public import Logging

/// Starts each runner as a Slurm job: `srun` with the runner executable, kept as a child
/// of the parent, with `FLAME_PARENT` in its environment (srun exports it to the job).
///
/// Why srun and not sbatch: on the test cluster srun starts a runner in about 50 ms where
/// sbatch takes 1–2 s (the controller's scheduling loop), srun passes the runner's output
/// back to the parent, and the job lives exactly as long as its srun. srun is started under
/// `setpriv --pdeathsig TERM`, so when the parent dies, even by SIGKILL, the kernel sends
/// srun SIGTERM, and srun ends a running job step or revokes a pending allocation within
/// milliseconds: no job is left behind. (A pending job of an srun killed with SIGKILL stays
/// in the queue: hence SIGTERM. docs/ARCHITECTURE.md has the measurements.)
public struct SlurmLauncher: RunnerLauncher {
    public var options: SlurmOptions
    private let queue: SlurmQueue
    /// The program srun runs on the nodes.
    private let executable: String

    public init(options: SlurmOptions = SlurmOptions()) {
        self.options = options
        self.executable = options.executable ?? ProcessEnvironment.ownExecutable()
        self.queue = SlurmQueue(commands: options.commands, interval: options.pendingPollInterval)
    }

    /// This process's own build, unless the runner executable is another file this machine
    /// can read (then that file's): runners run a copy of it on the nodes.
    public var buildID: String {
        if let path = options.executable, ProcessEnvironment.isExecutable(path) { return BuildIdentity.of(path: path) }
        return BuildIdentity.current()
    }

    /// A runner's parent process is the node's slurmstepd, not this one.
    public var launchesChildren: Bool { false }

    public func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        guard ProcessEnvironment.isExecutable(options.commands.srun) else {
            throw FLAMEError(
                .bootFailed,
                "cannot start runner \(request.spec.runnerID): no srun at \(options.commands.srun) "
                    + "(install Slurm's client tools, e.g. Debian's slurm-client, or set SlurmOptions.commands)")
        }
        let job = SlurmJob(queue: queue, request: request)
        let srunRequest = LaunchRequest(
            spec: request.spec, environment: request.environment, output: { job.output($0, stream: $1) },
            progress: request.progress, ended: { job.ended($0) })
        let (program, arguments) = command(for: request.spec)
        var srun = LocalProcessLauncher(executable: program, arguments: arguments, environment: options.environment)
        srun.inherits = Self.srunInherits(insideJob: parentIsInAJob)
        do {
            job.started(try await srun.launch(srunRequest, inheriting: nil))
        } catch let error as FLAMEError {
            throw FLAMEError(.bootFailed, "cannot run srun for runner \(request.spec.runnerID): \(error.message)")
        }
        return job
    }

    /// The program to spawn and its arguments: setpriv (when present) around srun.
    func command(for spec: RunnerSpec) -> (String, [String]) {
        let srun = [options.commands.srun] + srunArguments(for: spec)
        guard ProcessEnvironment.isExecutable(Self.setpriv) else { return (srun[0], Array(srun.dropFirst())) }
        return (Self.setpriv, ["--pdeathsig", "TERM", "--"] + srun)
    }

    static let setpriv = "/usr/bin/setpriv"

    /// Whether this process runs inside a Slurm job (`salloc`, an sbatch script).
    private var parentIsInAJob: Bool { ProcessEnvironment.value(of: "SLURM_JOB_ID") != nil }

    /// Which of this process's variables srun inherits. Inside a Slurm job none of the
    /// job's `SLURM_*` variables (but `SLURM_CONF`): they describe the parent's allocation,
    /// and srun given `SLURM_JOB_ID` starts a step in it instead of a job of its own (the
    /// runners then queued for the allocation's CPUs). Outside a job every variable passes,
    /// srun's input ones (`SLURM_ACCOUNT`, …) among them; ``SlurmOptions/environment`` is
    /// always passed.
    static func srunInherits(insideJob: Bool) -> @Sendable (String) -> Bool {
        guard insideJob else { return { _ in true } }
        return { name in !name.hasPrefix("SLURM_") || name == "SLURM_CONF" }
    }

    /// srun's options for one runner, then the runner executable and its arguments.
    func srunArguments(for spec: RunnerSpec) -> [String] {
        var arguments = [
            "--job-name=\(options.jobNamePrefix)\(spec.runnerID)", "--nodes=1", "--ntasks=1",
            "--cpus-per-task=\(options.cpusPerRunner)", "--input=none", "--export=ALL",
        ]
        if let partition = options.partition { arguments.append("--partition=\(partition)") }
        if let limit = options.timeLimit { arguments.append("--time=\(limit.slurmTimeLimit)") }
        if let memory = options.memoryPerRunnerMegabytes { arguments.append("--mem=\(memory)") }
        arguments += options.extraArguments
        arguments.append(executable)
        arguments += options.arguments ?? Array(CommandLine.arguments.dropFirst())
        return arguments
    }
}

/// Runners as Slurm jobs that dial back to this parent's ``RunnerListener`` over TCP: a
/// ``SlurmLauncher`` on a ``LauncherBackend``.
///
/// The listener must be reachable from the nodes: bind it to an interface they can route to
/// (or `0.0.0.0`) and advertise the address they should dial.
public struct SlurmBackend: Backend {
    private let backend: LauncherBackend

    public init(options: SlurmOptions = SlurmOptions(), listener: RunnerListener, logger: Logger = Logger(label: "flame.slurm")) {
        backend = LauncherBackend(launcher: SlurmLauncher(options: options), listener: listener, logger: logger)
    }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        try await backend.boot(spec, events: events)
    }
}
