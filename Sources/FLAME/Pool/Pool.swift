import FLAMEPolicy
import FLAMEWire
public import Logging

/// An elastic pool of runners: places calls on them, boots more on demand up to `max`,
/// queues callers when full, enforces timeouts and retires idle runners.
///
/// The policy lives in ``PoolStateMachine``; this actor feeds it events, performs its
/// actions (boot, place, fail, stop, kill) and owns the continuations of waiting callers.
/// Results travel from a runner's I/O thread straight to the caller (``CallTable``).
public actor Pool {
    /// The pool's name.
    public nonisolated let name: String
    nonisolated let configuration: PoolConfiguration
    nonisolated let backend: any Backend
    nonisolated let logger: Logger
    nonisolated let calls = CallTable()
    nonisolated let casts = CastTracker()
    nonisolated let finishedCalls = FinishedCalls()
    nonisolated let telemetry: PoolTelemetry

    typealias Machine = PoolStateMachine<ContinuousClock.Instant>
    var machine: Machine
    private var waiting: [UInt64: CheckedContinuation<Placement, any Error>] = [:]
    private var immediate: [UInt64: Result<Placement, any Error>] = [:]
    var links: [String: any RunnerLink] = [:]
    var monitors: [String: RunnerMonitor] = [:]
    var boots: [String: Task<Void, Never>] = [:]
    /// Why the pool aborted a boot still in flight: its task reports this when it ends.
    var abortedBoots: [String: FLAMEError] = [:]
    /// Runners whose process exited while their boot was still in flight.
    var exitsDuringBoot: [String: FLAMEError] = [:]
    /// The last error a call saw on each runner, for operators.
    var lastErrors: [String: String] = [:]
    /// The output of the last runners that exited.
    var retired: RetiredRunners
    var children: [UInt64: ChildRecord] = [:]
    private var timer: (task: Task<Void, Never>, at: ContinuousClock.Instant)?
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// The machine said `shutdownCompleted`: no runner is left.
    private var isShutDown = false
    var startup: (pending: Set<String>, continuation: CheckedContinuation<Void, any Error>?)?

    /// Where a checked-out call goes.
    struct Placement: Sendable {
        let callID: UInt64
        let runnerID: String
        let link: any RunnerLink
    }

    /// Creates the pool and boots its `min` runners; throws when the configuration is
    /// invalid or a `min` runner cannot boot. Inside a runner, `min` is always 0.
    public init(
        _ configuration: PoolConfiguration,
        backend: any Backend = LocalProcessBackend(),
        logger: Logger = Logger(label: "flame.pool")
    ) async throws {
        var configuration = configuration
        try configuration.validate()
        if FLAME.isRunner { configuration.min = 0 }
        self.name = configuration.name
        self.configuration = configuration
        self.backend = backend
        var logger = logger
        logger[metadataKey: "pool"] = "\(configuration.name)"
        self.logger = logger
        self.machine = Machine(limits: .init(configuration))
        self.retired = RetiredRunners(capacity: configuration.exitedRunnersKept)
        self.telemetry = PoolTelemetry(pool: configuration.name)
        PoolRegistry.shared.register(self)
        try await start()
    }

    private func start() async throws {
        let actions = machine.start(now: .now)
        let pending = Set(actions.compactMap { if case .bootRunner(let id) = $0 { id } else { nil } })
        guard !pending.isEmpty else { return }
        startup = (pending, nil)
        perform(actions)
        do {
            try await withCheckedThrowingContinuation { continuation in
                if startup?.pending.isEmpty == true {
                    continuation.resume()
                } else {
                    startup?.continuation = continuation
                }
            }
            startup = nil
        } catch {
            startup = nil
            await shutdown()
            throw error
        }
    }

    /// A pool dropped without ``shutdown()`` takes its runners with it.
    deinit {
        for link in links.values { link.kill() }
        for boot in boots.values { boot.cancel() }
        timer?.task.cancel()
    }

    // MARK: - Calls

    /// Runs `job` on a runner and returns its output.
    ///
    /// `timeout` (default: the pool's) covers waiting for a runner and the execution. On
    /// timeout the caller gets ``FLAMEError/Code/timeout`` and the job is cancelled on the
    /// runner. Cancelling the calling task cancels the job too. A job's own error arrives as
    /// ``RemoteJobError``.
    public nonisolated func call<J: Job>(_ job: J, timeout: Duration? = nil) async throws -> J.Output {
        let request = try JobCodec.encode(job)
        let outcome = try await run(type: request.type, payload: request.payload, timeout: timeout, pinnedTo: nil)
        return try JobCodec.decode(outcome, as: J.Output.self)
    }

    /// Runs `job` on a runner without waiting for its output. Failures (including not
    /// finding a runner in time) are logged at error level with the job's type. A cast
    /// issued before ``shutdown()`` is still run: shutdown waits for it.
    public nonisolated func cast<J: Job>(_ job: J, timeout: Duration? = nil) {
        casts.started()
        Task {
            defer { self.casts.finished() }
            do {
                _ = try await self.call(job, timeout: timeout)
            } catch {
                self.logger.error("cast of \(J.self) failed: \(error)", metadata: ["job": "\(J.self)"])
            }
        }
    }

    nonisolated func run(type: String, payload: [UInt8], timeout: Duration?, pinnedTo runner: String?) async throws -> CallOutcome {
        let started = ContinuousClock.now
        let deadline = started.advanced(by: timeout ?? configuration.timeout)
        let placement = try await checkout(deadline: deadline, isChild: false, pinnedTo: runner)
        let outcome = try await exchange(placement, .run(RunRequest(id: placement.callID, jobType: type, payload: payload)))
        telemetry.callAnswered(after: .now - started, succeeded: outcome.isSuccess)
        if case .failure(let failure) = outcome {
            await callFinished(placement.callID, succeeded: false, runner: placement.runnerID, error: failure.message)
        } else {
            await callFinished(placement.callID, succeeded: true)
        }
        return outcome
    }

    /// Sends `message` for a placed call and waits for the runner's answer, the call's
    /// failure (timeout, runner exit) or the caller's cancellation.
    nonisolated func exchange(_ placement: Placement, _ message: ParentMessage) async throws -> CallOutcome {
        let id = placement.callID
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                calls.insert(id, on: placement.runnerID, continuation)
                // Cancelled before anything was sent, and the entry is still ours: nothing to
                // cancel on the runner. If the cancellation handler took the entry first, it
                // has asked the pool to cancel the call on the runner, so the request must go
                // out (else the runner would be killed for a call it never received).
                if Task.isCancelled, calls.fail(id, with: CancellationError()) {
                    Task { await self.callFinished(id, succeeded: false) }
                    return
                }
                placement.link.send(message)
            }
        } onCancel: {
            // The runner is told to cancel through the pool; if the cancel overtakes the
            // request, the job runs to completion and its result is dropped.
            if calls.fail(id, with: CancellationError()) {
                Task { await self.callAbandoned(id) }
            }
        }
    }

    func checkout(deadline: ContinuousClock.Instant, isChild: Bool, pinnedTo runner: String?) async throws -> Placement {
        accountForFinishedCalls()
        if let runner {
            // The link first: a call registered in the machine must always be sent.
            guard let link = links[runner] else { throw FLAMEError(.childExited, "runner \(runner) is gone") }
            let callID = try machine.checkoutPinned(runner: runner, deadline: deadline, now: .now)
            armTimer()
            return Placement(callID: callID, runnerID: runner, link: link)
        }
        let (waiter, actions) = machine.checkoutRequested(deadline: deadline, isChild: isChild, now: .now)
        perform(actions)
        if let result = immediate.removeValue(forKey: waiter) { return try result.get() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiting[waiter] = continuation
            }
        } onCancel: {
            Task { await self.waiterCancelled(waiter) }
        }
    }

    private func waiterCancelled(_ waiter: UInt64) {
        if machine.waiterCancelled(waiter) {
            waiting.removeValue(forKey: waiter)?.resume(throwing: CancellationError())
        }
    }

    /// Records that a call's caller has its answer. The first caller of a batch takes it to
    /// the actor; the others return at once (see ``FinishedCalls``).
    nonisolated func callFinished(_ id: UInt64, succeeded: Bool, runner: String? = nil, error: String? = nil) async {
        if finishedCalls.record(.init(id: id, succeeded: succeeded, runner: runner, error: error)) {
            await accountForFinishedCalls()
        }
    }

    func accountForFinishedCalls() {
        let finished = finishedCalls.take()
        guard !finished.isEmpty else { return }
        let now = ContinuousClock.now
        var actions: [Machine.Action] = []
        for call in finished {
            if let runner = call.runner, let error = call.error { lastErrors[runner] = error }
            actions += machine.callFinished(call.id, succeeded: call.succeeded, now: now)
        }
        perform(actions)
    }

    private func callAbandoned(_ id: UInt64) {
        perform(machine.callAbandoned(id, now: .now))
    }

    // MARK: - Effects

    /// Performs the state machine's actions. Every side effect of the pool happens here.
    func perform(_ actions: [Machine.Action]) {
        for action in actions {
            logger.trace("pool action", metadata: ["action": "\(action)"])
            switch action {
            case .bootRunner(let id):
                bootRunner(id)
            case .abortBoot(let id, let reason):
                // The boot task then fails; it reports this reason, not "aborted".
                abortedBoots[id] = reason
                boots[id]?.cancel()
            case .placeWaiter(let waiter, let callID, let runnerID):
                let result: Result<Placement, any Error>
                if let link = links[runnerID] {
                    result = .success(Placement(callID: callID, runnerID: runnerID, link: link))
                } else {
                    result = .failure(FLAMEError(.runnerExited, "runner \(runnerID) is gone"))
                }
                if let continuation = waiting.removeValue(forKey: waiter) {
                    continuation.resume(with: result)
                } else {
                    immediate[waiter] = result
                }
            case .failWaiter(let waiter, let error):
                if error.code == .timeout {
                    telemetry.callTimedOut()
                    publish(.callTimedOut, runner: nil, error.message)
                }
                if let continuation = waiting.removeValue(forKey: waiter) {
                    continuation.resume(throwing: error)
                } else {
                    immediate[waiter] = .failure(error)
                }
            case .failCall(let callID, let runner, let error):
                lastErrors[runner] = error.message
                if error.code == .timeout {
                    telemetry.callTimedOut()
                    publish(.callTimedOut, runner: runner, error.message)
                } else {
                    telemetry.callFailed()
                }
                calls.fail(callID, with: error)
            case .cancelCall(let callID, let runnerID):
                links[runnerID]?.send(.cancel(callID: callID))
            case .stopRunner(let id):
                links[id]?.stop()
            case .killRunner(let id, let reason):
                publish(.killed, runner: id, reason.message)
                // A booting runner is never killed (its boot is aborted); one without a link
                // is already gone, its exit on its way to the machine.
                links[id]?.kill()
            case .runIdleCheck(let id, let callID):
                runIdleCheck(on: id, callID: callID)
            case .growStarted(let growth):
                configuration.onGrowStart?(growth)
            case .growEnded(let growth, let error):
                configuration.onGrowEnd?(growth, error.map { .failure($0) } ?? .success(()))
            case .shrank(let growth):
                configuration.onShrink?(growth)
            case .shutdownCompleted:
                isShutDown = true
                for waiter in drainWaiters { waiter.resume() }
                drainWaiters.removeAll()
            }
        }
        armTimer()
        telemetry.gauges(runners: machine.runners.count, queueDepth: machine.queueDepth, pendingBoots: machine.pendingBoots)
    }

    private func runIdleCheck(on id: String, callID: UInt64) {
        guard let check = configuration.idleShutdownCheck, let link = links[id] else {
            perform(machine.idleCheckFinished(id, call: callID, idle: false, now: .now))
            return
        }
        Task {
            var idle = false
            do {
                let request = try JobCodec.encode(check)
                let placement = Placement(callID: callID, runnerID: id, link: link)
                let outcome = try await self.exchange(
                    placement, .run(RunRequest(id: callID, jobType: request.type, payload: request.payload)))
                idle = try JobCodec.decode(outcome, as: Bool.self)
            } catch {
                self.logger.warning("idle check failed; runner stays", metadata: ["runner": "\(id)", "error": "\(error)"])
            }
            self.idleCheckFinished(id, callID: callID, idle: idle)
        }
    }

    private func idleCheckFinished(_ id: String, callID: UInt64, idle: Bool) {
        perform(machine.idleCheckFinished(id, call: callID, idle: idle, now: .now))
    }

    /// Keeps one sleeping task armed for the machine's earliest deadline.
    private func armTimer() {
        guard let next = machine.nextTimer else { return }
        if let timer, timer.at <= next { return }
        timer?.task.cancel()
        let task = Task { [weak self] in
            try? await Task.sleep(until: next, clock: .continuous)
            guard !Task.isCancelled else { return }
            await self?.timerFired(at: next)
        }
        timer = (task, next)
    }

    private func timerFired(at instant: ContinuousClock.Instant) {
        guard timer?.at == instant else { return }
        timer = nil
        // A call whose caller has its answer and recorded it did not time out. (One answered
        // but not yet recorded can still be: it counts as timed out only, see callFinished.)
        accountForFinishedCalls()
        perform(machine.tick(now: .now))
    }

    // MARK: - Shutdown

    /// Stops the pool: casts already issued run to completion, then waiting callers fail,
    /// runners finish what they run and exit (killed after `shutdownTimeout`). Returns when
    /// every runner is gone.
    public func shutdown() async {
        await casts.waitUntilIdle()
        accountForFinishedCalls()
        if machine.lifecycle == .running { logger.info("pool shutting down") }
        perform(machine.shutdownRequested(now: .now))
        if !isShutDown {
            await withCheckedContinuation { drainWaiters.append($0) }
        }
        timer?.task.cancel()
        timer = nil
        PoolRegistry.shared.unregister(self)
    }

    func publish(_ kind: PoolEvent.Kind, runner: String?, _ message: String) {
        PoolEvents.shared.publish(PoolEvent(kind: kind, pool: name, runner: runner, message: message))
    }
}

extension CallOutcome {
    var isSuccess: Bool {
        if case .success = self { true } else { false }
    }
}
