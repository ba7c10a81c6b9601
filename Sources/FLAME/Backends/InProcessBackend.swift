import FLAMEWire
import Synchronization

/// Runs "runners" inside the parent: jobs execute as tasks of this process, through the same
/// type-name dispatch and encoding as real runners.
///
/// For fast tests of pool behaviour (placement, queueing, timeouts, scaling) and for
/// development without processes. Boots can be delayed or made to fail.
public struct InProcessBackend: Backend {
    /// How long each boot takes.
    public var bootDelay: Duration
    /// Decides whether a boot fails (return the error) — called once per boot.
    public var bootFailure: (@Sendable (RunnerSpec) -> FLAMEError?)?

    public init(bootDelay: Duration = .zero, bootFailure: (@Sendable (RunnerSpec) -> FLAMEError?)? = nil) {
        self.bootDelay = bootDelay
        self.bootFailure = bootFailure
    }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        if bootDelay > .zero { try await Task.sleep(for: bootDelay) }
        try Task.checkCancellation()
        if let error = bootFailure?(spec) { throw error }
        return InProcessRunner(spec: spec, events: events)
    }
}

/// One in-process runner. Stopping waits for its calls; killing abandons them at once (a task
/// that ignores cancellation keeps running, but its result is dropped).
final class InProcessRunner: RunnerLink {
    private struct State {
        var calls: [UInt64: Task<Void, Never>] = [:]
        var children: [UInt64: Task<Void, Never>] = [:]
        var stopping = false
        var gone = false
    }
    let pid: Int32? = nil
    let host = "in-process"
    private let spec: RunnerSpec
    private let events: any RunnerEventHandler
    private let state = Mutex(State())

    init(spec: RunnerSpec, events: any RunnerEventHandler) {
        self.spec = spec
        self.events = events
    }

    func send(_ message: ParentMessage) {
        switch message {
        case .welcome:
            break
        case .run(let request):
            let accepted = state.withLock { state -> Bool in
                guard !state.stopping, !state.gone else { return false }
                state.calls[request.id] = Task {
                    let outcome = await JobCodec.run(request)
                    self.finish(\.calls, id: request.id) { .result(callID: request.id, outcome) }
                }
                return true
            }
            if !accepted {
                deliver(.result(callID: request.id, .failure(WireFailure(kind: .shuttingDown, message: "runner is shutting down"))))
            }
        case .cancel(let id):
            state.withLock { $0.calls[id] }?.cancel()
        case .startChild(let request):
            guard case .success(let service) = JobCodec.service(for: request) else {
                if case .failure(let failure) = JobCodec.service(for: request) {
                    deliver(.result(callID: request.id, .failure(failure)))
                }
                return
            }
            state.withLock { state in
                state.children[request.id] = Task {
                    self.deliver(.result(callID: request.id, .success([])))
                    var outcome = CallOutcome.success([])
                    do { try await service.run() } catch { outcome = .failure(JobCodec.failure(for: error)) }
                    self.finish(\.children, id: request.id) { .childExited(childID: request.id, outcome) }
                }
            }
        case .stopChild(let id):
            state.withLock { $0.children[id] }?.cancel()
        case .shutdown:
            stop()
        }
    }

    func stop() {
        let children = state.withLock { state in
            state.stopping = true
            return Array(state.children.values)
        }
        for child in children { child.cancel() }
        exitIfFinished()
    }

    func kill() {
        let tasks = state.withLock { state -> [Task<Void, Never>]? in
            guard !state.gone else { return nil }
            state.gone = true
            return Array(state.calls.values) + Array(state.children.values)
        }
        guard let tasks else { return }
        for task in tasks { task.cancel() }
        events.exited(FLAMEError(.runnerExited, "runner \(spec.runnerID) was killed"))
    }

    /// Forgets a finished call or child and reports it, unless the runner is gone.
    private func finish(_ tasks: WritableKeyPath<State, [UInt64: Task<Void, Never>]>, id: UInt64, _ message: () -> RunnerMessage) {
        let gone = state.withLock { state in
            state[keyPath: tasks][id] = nil
            return state.gone
        }
        if !gone { events.received(message()) }
        exitIfFinished()
    }

    private func deliver(_ message: RunnerMessage) {
        if !state.withLock({ $0.gone }) { events.received(message) }
    }

    private func exitIfFinished() {
        let exitNow = state.withLock { state -> Bool in
            guard state.stopping, !state.gone, state.calls.isEmpty, state.children.isEmpty else { return false }
            state.gone = true
            return true
        }
        if exitNow { events.exited(FLAMEError(.runnerExited, "runner \(spec.runnerID) exited with status 0")) }
    }
}
