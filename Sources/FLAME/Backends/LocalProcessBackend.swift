import CFLAMEShims
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Runs each runner as a new process of this very executable (`/proc/self/exe`), with
/// `FLAME_PARENT` in its environment.
///
/// The runner talks over an inherited `socketpair` (descriptor 3): no path to leak, race or
/// leave behind. Its stdout and stderr go to pipes the parent reads line by line into the
/// runner's output buffer. Runners die with the parent (`PR_SET_PDEATHSIG` from a dedicated
/// spawner thread, plus exit on socket EOF) and are reaped through a pidfd, so no zombie is
/// left behind.
public struct LocalProcessBackend: Backend {
    /// The executable to launch. Defaults to `/proc/self/exe`, this process's own binary.
    public var executable: String
    /// Its arguments (without argv[0]). Defaults to this process's own, so an app that
    /// parses its command line before `FLAME.bootstrap()` sees the same one.
    public var arguments: [String]
    /// Extra environment for runners, on top of the parent's.
    public var environment: [String: String]
    /// Where protocol violations of runners (bad frames, failed handshakes) are reported.
    public var logger: Logger

    public init(
        executable: String = "/proc/self/exe", arguments: [String]? = nil, environment: [String: String] = [:],
        logger: Logger = Logger(label: "flame.local")
    ) {
        self.executable = executable
        self.arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        self.environment = environment
        self.logger = logger
    }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        var environment = currentEnvironment()
        for (key, value) in self.environment { environment[key] = value }
        let token = ParentDescriptor.makeToken()
        let buildID = BuildIdentity.of(path: executable, environment: nil)
        let descriptor = ParentDescriptor(
            runnerID: spec.runnerID, token: token, buildID: buildID, parentPID: getpid(), fd: 3)
        environment[ParentDescriptor.environmentKey] = descriptor.encoded()

        let process = try await LocalRunnerProcess.launch(
            executable: executable, arguments: arguments, environment: environment,
            expecting: descriptor, spec: spec, events: events, logger: logger)
        return try await withTaskCancellationHandler {
            try await process.waitForHello()
        } onCancel: {
            process.abortBoot()
        }
    }

    private func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = flame_environ()
        while let entry = pointer?.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer = pointer?.advanced(by: 1)
        }
        return result
    }
}
