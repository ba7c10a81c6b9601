import FLAMEWire
import Logging
import NIOCore
import Synchronization

/// A booted (or booting) runner as the pool sees it: a launched process joined with the
/// connection that proved to be it. The ``RunnerLink`` of every backend but the in-process one.
///
/// Its boot ends when the connection's hello is admitted, when the runner is refused, or
/// when the process ends first. Its exit is reported once, after both the process has ended
/// and its connection has closed, so the runner's last frames and output lines come first.
final class ConnectedRunner: RunnerLink, RunnerConnectionDelegate {
    private enum Phase {
        case booting(CheckedContinuation<Void, any Error>?)
        case bootFailed(FLAMEError)
        case running
        case gone
    }
    private struct State {
        var phase = Phase.booting(nil)
        var process: (any LaunchedRunner)?
        var connection: RunnerConnection?
        /// What the runner said of itself (its pid and host there, its cluster job).
        var hello: RunnerHello?
        var connectionOpen = false
        /// How the process ended, once it has.
        var ended: String?
        var killRequested = false
        var impostorRefusal: FLAMEError?
        /// The end was handled (a boot that failed keeps its phase, and so its reason).
        var over = false
    }

    let spec: RunnerSpec
    private let events: any RunnerEventHandler
    private let logger: Logger
    private let state = Mutex(State())
    /// Called once the runner is gone (withdraws it from the listener's admissions).
    private let onGone: @Sendable (ConnectedRunner) -> Void

    init(spec: RunnerSpec, events: any RunnerEventHandler, logger: Logger, onGone: @escaping @Sendable (ConnectedRunner) -> Void = { _ in }) {
        self.spec = spec
        self.events = events
        var logger = logger
        logger[metadataKey: "runner"] = "\(spec.runnerID)"
        self.logger = logger
        self.onGone = onGone
    }

    /// The pid on the runner's host: the hello's, else the launched process's.
    var pid: Int32? {
        state.withLock { state in state.hello.flatMap { Int32(exactly: $0.pid) } ?? state.process?.pid }
    }
    /// Where the launcher placed it, else where the runner says it runs.
    var host: String { state.withLock { $0.process?.host ?? $0.hello?.host } ?? "unknown" }
    /// The cluster job the runner reported, else the one its launcher knows.
    var clusterJob: String? {
        state.withLock { state in state.hello.flatMap { $0.clusterJob.isEmpty ? nil : $0.clusterJob } ?? state.process?.clusterJob }
    }

    // MARK: - Boot

    /// The request a launcher gets for this runner: output to the pool, the end to this.
    func launchRequest(environment: [String: String]) -> LaunchRequest {
        LaunchRequest(
            spec: spec, environment: environment, output: { [events] in events.output($0, stream: $1) },
            progress: { [events] in events.bootProgress($0) }
        ) { [self] how in
            processEnded(how)
        }
    }

    /// Boots: `launch` starts the process, then this waits for the connection's hello.
    /// Cancellation (boot timeout, pool shutdown) kills the process and leaves nothing behind.
    func boot(_ launch: () async throws -> any LaunchedRunner) async throws {
        let process: any LaunchedRunner
        do {
            process = try await launch()
        } catch {
            state.withLock { state in
                state.phase = .gone
                state.over = true
            }
            onGone(self)
            throw error
        }
        let killNow = state.withLock { state -> Bool in
            state.process = process
            return state.killRequested
        }
        if killNow { process.kill() }
        try await withTaskCancellationHandler {
            try await waitUntilConnected()
        } onCancel: {
            abortBoot()
        }
    }

    private func waitUntilConnected() async throws {
        try await withCheckedThrowingContinuation { continuation in
            let early: Result<Void, any Error>? = state.withLock { state in
                switch state.phase {
                case .booting:
                    state.phase = .booting(continuation)
                    return nil
                case .bootFailed(let error): return .failure(error)
                case .running: return .success(())
                case .gone: return .failure(FLAMEError(.bootFailed, "runner \(spec.runnerID) is gone"))
                }
            }
            if let early { continuation.resume(with: early) }
        }
    }

    /// The boot was abandoned: kill the process now.
    func abortBoot() {
        failBoot(FLAMEError(.bootFailed, "boot of runner \(spec.runnerID) was aborted"))
        kill()
    }

    private func failBoot(_ error: FLAMEError) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>?? in
            guard case .booting(let waiter) = state.phase else { return nil }
            state.phase = .bootFailed(error)
            return .some(waiter)
        }
        if let waiter { waiter?.resume(throwing: error) }
    }

    // MARK: - RunnerConnectionDelegate

    func connected(_ connection: RunnerConnection, hello: RunnerHello) {
        let (waiter, process) = state.withLock { state -> (CheckedContinuation<Void, any Error>??, (any LaunchedRunner)?) in
            guard case .booting(let waiter) = state.phase, state.ended == nil else { return (nil, nil) }
            state.phase = .running
            state.connection = connection
            state.connectionOpen = true
            state.hello = hello
            return (.some(waiter), state.process)
        }
        guard let waiter else {
            logger.warning("runner connected after its boot ended; closing its connection")
            connection.close()
            return
        }
        process?.connected(hello)
        waiter?.resume()
    }

    func refused(_ error: FLAMEError) {
        logger.error("runner refused", metadata: ["error": "\(error.message)"])
        failBoot(error)
        kill()
    }

    func impostorRefused(_ error: FLAMEError) {
        state.withLock { $0.impostorRefusal = error }
    }

    func received(_ message: RunnerMessage) {
        events.received(message)
    }

    func disconnected(violation: FLAMEError?) {
        let (processAlive, loop) = state.withLock { state -> (Bool, (any EventLoop)?) in
            state.connectionOpen = false
            return (state.ended == nil, state.connection?.channel.eventLoop)
        }
        if let violation {
            // Nothing else shares this connection: the runner is killed, its calls fail with
            // its exit, and the pool carries on.
            failBoot(violation)
            kill()
        } else if processAlive, let loop {
            // A runner closes its end only by exiting; one that lingers is killed.
            loop.scheduleTask(in: .nanoseconds(spec.shutdownTimeout.nanoseconds)) { [self] in kill() }
        }
        reportExitIfDone()
    }

    // MARK: - Process

    private func processEnded(_ how: String) {
        let (connection, impostor) = state.withLock { state -> (RunnerConnection?, FLAMEError?) in
            state.ended = how
            return (state.connectionOpen ? state.connection : nil, state.impostorRefusal)
        }
        let refusal = impostor.map { "; a connection that claimed to be it was refused: \($0.message)" } ?? ""
        failBoot(FLAMEError(.bootFailed, "runner \(spec.runnerID) \(how) before it said hello\(refusal)"))
        if let connection {
            // Frames it sent before it died are read first; a descriptor a grandchild
            // inherited cannot hold the exit back for long.
            connection.channel.eventLoop.scheduleTask(in: .nanoseconds(LocalRunnerProcess.outputGrace.nanoseconds)) {
                connection.close()
            }
        }
        reportExitIfDone()
    }

    private func reportExitIfDone() {
        let report = state.withLock { state -> (how: String, wasRunning: Bool)? in
            guard let how = state.ended, !state.connectionOpen, !state.over else { return nil }
            state.over = true
            guard case .running = state.phase else { return (how, false) }
            state.phase = .gone
            return (how, true)
        }
        guard let report else { return }
        onGone(self)
        if report.wasRunning { events.exited(FLAMEError(.runnerExited, "runner \(spec.runnerID) \(report.how)")) }
    }

    // MARK: - RunnerLink

    func send(_ message: ParentMessage) {
        state.withLock { $0.connection }?.send(message)
    }

    func stop() {
        send(.shutdown)
    }

    func kill() {
        let process = state.withLock { state -> (any LaunchedRunner)? in
            state.killRequested = true
            return state.process
        }
        process?.kill()
    }
}
