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
    /// How runners are submitted (fixed for the launcher's life).
    public let options: SlurmOptions
    private let queue: SlurmQueue
    /// The program srun runs on the nodes.
    private let executable: String
    /// `setpriv`, which gives srun its parent-death signal; nil when this host has none.
    private let setpriv: String?

    /// A launcher submitting runners as `options` says. Without `setpriv` on `PATH`
    /// (util-linux) it warns once: srun then outlives a parent killed by SIGKILL, and so
    /// does a job of its that still pends.
    public init(options: SlurmOptions = SlurmOptions(), logger: Logger = Logger(label: "flame.slurm")) {
        self.options = options
        self.executable = options.executable ?? ProcessEnvironment.ownExecutable()
        self.queue = SlurmQueue(commands: options.commands, interval: max(options.pendingPollInterval, .milliseconds(100)))
        self.setpriv = ProcessEnvironment.onPath("setpriv")
        if setpriv == nil {
            logger.warning(
                "no setpriv on PATH (util-linux): srun runs without a parent-death signal, so a pending runner job outlives a parent killed by SIGKILL")
        }
    }

    /// The pinned identity (`FLAME_BUILD_ID` in ``SlurmOptions/environment`` or this
    /// process's), else this process's own build, unless the runner executable is another
    /// file this machine can read (then that file's): runners run a copy of it on the nodes.
    public var buildID: String {
        if let path = options.executable, ProcessEnvironment.isExecutable(path) {
            return BuildIdentity.of(path: path, environment: options.environment)
        }
        return BuildIdentity.current(environment: options.environment)
    }

    /// A runner's parent process is the node's slurmstepd, not this one.
    public var launchesChildren: Bool { false }

    /// Starts `srun` for one runner; returns once srun runs (its job may still pend).
    public func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        if let problem = options.problem {
            throw FLAMEError(.bootFailed, "cannot start runner \(request.spec.runnerID): invalid SlurmOptions: \(problem)")
        }
        guard ProcessEnvironment.isExecutable(options.commands.srun) else {
            throw FLAMEError(
                .bootFailed,
                "cannot start runner \(request.spec.runnerID): no srun at \(options.commands.srun) "
                    + "(install Slurm's client tools, e.g. Debian's slurm-client, or set SlurmOptions.commands)")
        }
        let descriptor = request.environment[ParentDescriptor.environmentKey].flatMap { try? ParentDescriptor.decode($0) }
        let job = SlurmJob(queue: queue, request: request, parentAddress: descriptor?.address ?? "the parent's listener")
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
        guard let setpriv else { return (srun[0], Array(srun.dropFirst())) }
        return (setpriv, ["--pdeathsig", "TERM", "--"] + srun)
    }

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
        backend = LauncherBackend(launcher: SlurmLauncher(options: options, logger: logger), listener: listener, logger: logger)
    }

    /// Boots one runner as a Slurm job (see ``SlurmLauncher``).
    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        try await backend.boot(spec, events: events)
    }
}
