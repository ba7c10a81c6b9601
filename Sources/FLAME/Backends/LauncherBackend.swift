public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A backend made of a ``RunnerLauncher`` (which starts runner processes somewhere) and the
/// parent's ``RunnerListener`` (which they dial back to).
///
/// For each boot it makes a token, registers the runner with the listener, has the launcher
/// start it with `FLAME_PARENT` (listener address, runner id, token) and waits for its
/// verified hello. A cluster backend is a launcher and this; nothing more.
public struct LauncherBackend: Backend {
    public var launcher: any RunnerLauncher
    public var listener: RunnerListener
    public var logger: Logger

    public init(launcher: any RunnerLauncher, listener: RunnerListener, logger: Logger = Logger(label: "flame.backend")) {
        self.launcher = launcher
        self.listener = listener
        self.logger = logger
    }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        let admissions = listener.admissions
        let runnerID = spec.runnerID
        let runner = ConnectedRunner(spec: spec, events: events, logger: logger) { runner in admissions.withdraw(runnerID, of: runner) }
        let expectation = RunnerExpectation(for: spec, buildID: launcher.buildID)
        try admissions.expect(expectation, delegate: runner)
        let descriptor = ParentDescriptor(
            runnerID: spec.runnerID, token: expectation.token, buildID: expectation.buildID,
            parentPID: launcher.launchesChildren ? getpid() : 0, fd: nil, address: listener.advertisedAddress)
        let request = runner.launchRequest(environment: [ParentDescriptor.environmentKey: descriptor.encoded()])
        try await runner.boot { try await launcher.launch(request) }
        return runner
    }
}
