import CFLAMEShims
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Runs each runner as a new process of this very executable (`/proc/self/exe`), with
/// `FLAME_PARENT` in its environment.
///
/// By default the runner talks over an inherited `socketpair` (descriptor 3): no path to
/// leak, race or leave behind. In ``Transport/tcp(_:)`` mode it dials the given listener
/// over TCP instead, as a runner on another host would: the whole remote path, on one
/// machine. Either way its stdout and stderr go to pipes the parent reads line by line into
/// the runner's output buffer, runners die with the parent (`PR_SET_PDEATHSIG` from a
/// dedicated spawner thread, plus exit on socket EOF) and are reaped through a pidfd, so no
/// zombie is left behind.
public struct LocalProcessBackend: Backend {
    /// How runners reach the parent.
    public enum Transport: Sendable {
        /// An inherited socketpair (the default).
        case socketpair
        /// TCP to this listener.
        case tcp(RunnerListener)
    }

    /// The executable to launch. Defaults to `/proc/self/exe`, this process's own binary.
    public var executable: String {
        get { launcher.executable }
        set { launcher.executable = newValue }
    }
    /// Its arguments (without argv[0]). Defaults to this process's own, so an app that
    /// parses its command line before `FLAME.bootstrap()` sees the same one.
    public var arguments: [String] {
        get { launcher.arguments }
        set { launcher.arguments = newValue }
    }
    /// Extra environment for runners, on top of the parent's.
    public var environment: [String: String] {
        get { launcher.environment }
        set { launcher.environment = newValue }
    }
    public var transport: Transport
    /// Where protocol violations of runners (bad frames, failed handshakes) are reported.
    public var logger: Logger
    private var launcher: LocalProcessLauncher

    public init(
        executable: String = "/proc/self/exe", arguments: [String]? = nil, environment: [String: String] = [:],
        transport: Transport = .socketpair, logger: Logger = Logger(label: "flame.local")
    ) {
        self.launcher = LocalProcessLauncher(executable: executable, arguments: arguments, environment: environment)
        self.transport = transport
        self.logger = logger
    }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        switch transport {
        case .tcp(let listener):
            return try await LauncherBackend(launcher: launcher, listener: listener, logger: logger).boot(spec, events: events)
        case .socketpair:
            return try await bootOverSocketpair(spec, events: events)
        }
    }

    private func bootOverSocketpair(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        var sockets: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
            throw FLAMEError(.bootFailed, "socketpair failed: \(String(cString: strerror(errno)))")
        }
        let runner = ConnectedRunner(spec: spec, events: events, logger: logger)
        let expectation = RunnerExpectation(for: spec, buildID: launcher.buildID)
        do {
            _ = try await RunnerTransport.adopt(socket: sockets[0], expecting: expectation, owner: runner, logger: logger)
        } catch {
            close(sockets[1])  // sockets[0] swift-nio closed when it failed to adopt it
            throw FLAMEError(.bootFailed, "cannot serve the runner's socket: \(error)")
        }
        let descriptor = ParentDescriptor(
            runnerID: spec.runnerID, token: expectation.token, buildID: expectation.buildID, parentPID: getpid(), fd: 3)
        let request = runner.launchRequest(environment: [ParentDescriptor.environmentKey: descriptor.encoded()])
        let launcher = self.launcher
        let childEnd = sockets[1]
        try await runner.boot {
            defer { close(childEnd) }
            return try await launcher.launch(request, inheriting: childEnd)
        }
        return runner
    }
}
