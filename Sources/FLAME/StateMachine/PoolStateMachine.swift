import DequeModule

/// FLAME's pool policy as a sans-IO state machine: events in, actions out.
///
/// No clocks, sockets or tasks in here. Every event carries `now`; deadlines are data; the
/// owner (the ``Pool`` actor, or a unit test with a manual clock) performs the returned
/// ``Action``s and calls ``tick(now:)`` at ``nextTimer`` or later.
///
/// Runner phases: `booting` → `ready` → `draining` → `exiting` → removed. Can transition:
/// booting → ready (booted), booting → removed (boot failed or timed out);
/// ready → draining (drain, scale down, single use); ready/draining → exiting (stopped, idle,
/// killed); any → removed (process exited).
struct PoolStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    typealias RunnerID = String
    typealias CallID = UInt64
    typealias WaiterID = UInt64

    /// FLAME's async boot debounce: after a failed boot, wait this long before retrying.
    static var bootRetryDebounce: Duration { .seconds(1) }

    enum Phase: Equatable, Sendable {
        case booting(deadline: Instant)
        case ready
        case draining
        case exiting(killAt: Instant?)
    }

    struct Runner: Sendable {
        let id: RunnerID
        var phase: Phase
        /// Calls and child services placed on this runner and not yet finished.
        var inFlight = 0
        /// Of `inFlight`, the child services.
        var children = 0
        var idleSince: Instant?
        var idleCheck: CallID?
        var completed = 0
        var failed = 0
        /// Set when the pool kills the runner; its calls fail with this.
        var killReason: FLAMEError?
        /// While booting: what the backend last said it waits for ("job 42 is pending:
        /// Resources"); a boot that times out names it.
        var bootStatus: String?

        var isIdle: Bool { inFlight == 0 }
        var callsInFlight: Int { inFlight - children }
    }

    struct Call: Sendable {
        let runner: RunnerID
        /// Nil for child services, which run until stopped.
        var deadline: Instant?
        /// Set once the caller has given up; past it, the runner is killed.
        var killAt: Instant?
        let isChild: Bool
    }

    struct Waiter: Sendable {
        let id: WaiterID
        let deadline: Instant
        let isChild: Bool
    }

    enum Lifecycle: Equatable, Sendable { case running, shuttingDown }

    /// Effects for the owner to perform, in order.
    enum Action: Equatable, Sendable {
        /// Start booting this runner (the id is already counted as a pending boot).
        case bootRunner(RunnerID)
        /// Stop the launch (the boot took longer than `bootTimeout`, or the pool shuts
        /// down); `reason` is the boot's failure, as `growEnded` reports it.
        case abortBoot(RunnerID, reason: FLAMEError)
        /// Resume this waiter: it may now send `call` to `runner`.
        case placeWaiter(WaiterID, CallID, RunnerID)
        /// Resume this waiter with an error; it was never placed.
        case failWaiter(WaiterID, FLAMEError)
        /// Resume this call's caller with an error (its runner may still be running it).
        case failCall(CallID, FLAMEError)
        /// Ask the runner to cancel this call.
        case cancelCall(CallID, RunnerID)
        /// Shut this runner down gracefully (finish, stop children, exit).
        case stopRunner(RunnerID)
        /// SIGKILL this runner.
        case killRunner(RunnerID)
        /// Run the configured idle check job on this runner as `call`.
        case runIdleCheck(RunnerID, CallID)
        case growStarted(PoolGrowth)
        case growEnded(PoolGrowth, FLAMEError?)
        case shrank(PoolGrowth)
    }

    struct Limits: Sendable {
        var name: String
        var min: Int
        var max: Int
        var maxConcurrency: Int
        var singleUse: Bool
        var bootTimeout: Duration
        var shutdownTimeout: Duration
        /// The ceiling on `min` and `max` (``PoolConfiguration/runnerLimit``).
        var runnerLimit: Int = PoolConfiguration.defaultRunnerLimit
        var idleShutdownAfter: Duration
        var minIdleShutdownAfter: Duration?
        var hasIdleCheck: Bool
        var callTimeout: Duration

        init(_ configuration: PoolConfiguration) {
            name = configuration.name
            min = configuration.min
            max = configuration.max
            maxConcurrency = configuration.maxConcurrency
            singleUse = configuration.singleUse
            bootTimeout = configuration.bootTimeout
            shutdownTimeout = configuration.shutdownTimeout
            idleShutdownAfter = configuration.idleShutdownAfter
            minIdleShutdownAfter = configuration.minIdleShutdownAfter
            hasIdleCheck = configuration.idleShutdownCheck != nil
            callTimeout = configuration.timeout
            runnerLimit = configuration.runnerLimit
        }
    }

    // State. Changed only by the machine's own events (this file and its extensions, which
    // is why it is not private); the Pool actor reads it for snapshots.
    var limits: Limits
    var lifecycle = Lifecycle.running
    /// Every runner, in boot order (placement ties go to the oldest).
    var runnerOrder: [RunnerID] = []
    var runners = RunnerTable()
    var calls: [CallID: Call] = [:]
    var waiters = Deque<Waiter>()
    var liveWaiters = Set<WaiterID>()
    /// Set after a failed boot: no boot before this (FLAME's 1 s debounce).
    var bootRetryAt: Instant?
    var lastBootError: FLAMEError?
    var nextRunnerNumber = 1
    var nextCallID: CallID = 1
    var nextWaiterID: WaiterID = 1
    /// The earliest moment `tick` may have something to do. May be early (then tick finds
    /// nothing), never late.
    var nextTimer: Instant?

    // Pool counters for snapshots.
    var callsCompleted = 0
    var callsFailed = 0
    var callsTimedOut = 0

    init(limits: Limits) {
        self.limits = limits
    }

    // MARK: - Queries

    var queueDepth: Int { liveWaiters.count }
    var pendingBoots: Int { runners.bootingCount }
    /// Runners that count toward `max`: booting or ready (not draining or exiting).
    var activeRunnerCount: Int { runners.bootingCount + runners.readyCount }
    var isDrained: Bool { runners.isEmpty }

    // MARK: - Events

    /// The pool starts: boot `min` runners.
    mutating func start(now: Instant) -> [Action] {
        var actions: [Action] = []
        while activeRunnerCount < limits.min { boot(now: now, into: &actions) }
        return actions
    }

    /// A caller wants a runner (for a call, or for a child service when `isChild`).
    /// Returns the caller's waiter id; an action `placeWaiter` or `failWaiter` for that id
    /// may already be among the actions.
    mutating func checkoutRequested(deadline: Instant, isChild: Bool = false, now: Instant) -> (WaiterID, [Action]) {
        let waiter = Waiter(id: nextWaiterID, deadline: deadline, isChild: isChild)
        nextWaiterID += 1
        var actions: [Action] = []
        guard lifecycle == .running else {
            return (waiter.id, [.failWaiter(waiter.id, FLAMEError(.poolShutDown, "pool \(limits.name) is shutting down"))])
        }
        if let runner = leastLoadedRunner() {
            place(waiter, on: runner, now: now, into: &actions)
            return (waiter.id, actions)
        }
        // FLAME: boot one more only if the pending boots cannot cover the waiting callers
        // (pending × maxConcurrency ≤ waiting, counted before this caller queues).
        let waitingBefore = liveWaiters.count
        waiters.append(waiter)
        liveWaiters.insert(waiter.id)
        noteDeadline(deadline)
        if activeRunnerCount < limits.max, bootRetryAt == nil,
            pendingBoots * limits.maxConcurrency <= waitingBefore
        {
            boot(now: now, into: &actions)
        }
        return (waiter.id, actions)
    }

    /// A waiting caller's task was cancelled. Returns whether it was still waiting (then the
    /// owner resumes it with `CancellationError`).
    mutating func waiterCancelled(_ waiter: WaiterID) -> Bool {
        liveWaiters.remove(waiter) != nil
    }

    /// The runner finished a call (with its result or a failure). With `runner`, only if the
    /// call was placed on that runner: a report from any other runner about it is ignored.
    mutating func callFinished(_ id: CallID, succeeded: Bool, on runner: RunnerID? = nil, now: Instant) -> [Action] {
        guard let placed = calls[id]?.runner, runner == nil || runner == placed, let call = calls.removeValue(forKey: id) else { return [] }
        var actions: [Action] = []
        // A call with a kill deadline was already counted: timed out (its caller got the
        // timeout; an answer racing the deadline arrives here after it) or abandoned.
        if call.killAt == nil {
            if succeeded { callsCompleted += 1 } else { callsFailed += 1 }
        }
        guard var runner = runners[call.runner] else { return actions }
        runner.inFlight -= 1
        if call.isChild { runner.children -= 1 }
        if succeeded { runner.completed += 1 } else { runner.failed += 1 }
        runners[call.runner] = runner
        settle(runner.id, now: now, into: &actions)
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// The caller gave up on a placed call (its task was cancelled). The runner is asked to
    /// cancel it and is killed if it has not finished within `shutdownTimeout`.
    mutating func callAbandoned(_ id: CallID, now: Instant) -> [Action] {
        guard var call = calls[id], call.killAt == nil else { return [] }
        let killAt = now.advanced(by: limits.shutdownTimeout)
        call.killAt = killAt
        call.deadline = nil
        calls[id] = call
        noteDeadline(killAt)
        return [.cancelCall(id, call.runner)]
    }

    /// A child service started on a runner is now running: it no longer has a deadline.
    mutating func childStarted(_ id: CallID) {
        calls[id]?.deadline = nil
    }

    /// A runner said hello and was accepted. Returns nil when the runner is not expected
    /// (its boot was aborted); the owner must then kill it.
    mutating func runnerBooted(_ id: RunnerID, now: Instant) -> [Action]? {
        guard var runner = runners[id], case .booting = runner.phase else { return nil }
        runner.phase = .ready
        runner.idleSince = now
        runners[id] = runner
        bootRetryAt = nil
        lastBootError = nil
        var actions: [Action] = [.growEnded(growth(id), nil)]
        if lifecycle == .shuttingDown || activeRunnerCount > limits.max {
            runners[id]?.phase = .draining
        } else {
            noteIdleDeadline(for: id, since: now)
        }
        settle(id, now: now, into: &actions)
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// The backend says what a boot waits for; a later timeout of that boot names it.
    /// Ignored once the runner has booted or is gone (the report raced its end).
    mutating func bootProgressed(_ id: RunnerID, status: String) {
        guard case .booting = runners[id]?.phase else { return }
        runners[id]?.bootStatus = status
    }

    /// A boot failed (or its process exited before hello).
    mutating func runnerBootFailed(_ id: RunnerID, error: FLAMEError, now: Instant) -> [Action] {
        guard let runner = runners[id], case .booting = runner.phase else { return [] }
        remove(id)
        lastBootError = error
        var actions: [Action] = [.growEnded(growth(id), error)]
        let nothingCanServe = pendingBoots == 0 && leastLoadedRunner() == nil
            && !runners.values.contains(where: { $0.phase == .ready })
        if error.code == .buildMismatch, nothingCanServe {
            // Retrying cannot help: tell every waiter now instead of at its timeout.
            failAllWaiters(error, into: &actions)
        }
        if lifecycle == .running, hasUnmetDemand || activeRunnerCount < limits.min {
            scheduleBootRetry(now: now)
        }
        return actions
    }

    /// A runner's process exited (for any reason). Its calls fail with `reason` (or with the
    /// kill reason, when the pool killed it).
    mutating func runnerExited(_ id: RunnerID, reason: FLAMEError, now: Instant) -> [Action] {
        guard let runner = runners[id] else { return [] }
        if case .booting = runner.phase {
            return runnerBootFailed(id, error: FLAMEError(.bootFailed, "runner \(id) exited during boot: \(reason.message)"), now: now)
        }
        remove(id)
        var actions: [Action] = []
        let error = runner.killReason ?? reason
        if let check = runner.idleCheck { actions.append(.failCall(check, error)) }
        for (callID, call) in calls where call.runner == id {
            calls[callID] = nil
            if call.killAt == nil {
                callsFailed += 1
                actions.append(.failCall(callID, error))
            }
        }
        actions.append(.shrank(PoolGrowth(pool: limits.name, runnerID: id, count: activeRunnerCount)))
        replenish(now: now, into: &actions)
        return actions
    }

    /// The idle check job answered (`idle` is false on error).
    mutating func idleCheckFinished(_ runnerID: RunnerID, call: CallID, idle: Bool, now: Instant) -> [Action] {
        guard var runner = runners[runnerID], runner.idleCheck == call else { return [] }
        runner.idleCheck = nil
        runners[runnerID] = runner
        var actions: [Action] = []
        if idle, runner.phase == .ready, runner.isIdle, let since = runner.idleSince,
            let after = idleShutdownDelay(rank: readyRank(of: runnerID)), since.advanced(by: after) <= now
        {
            stop(runnerID, now: now, into: &actions)
        } else if runner.phase == .ready, runner.isIdle {
            // Not idle by the check's measure: start the idle period again.
            runners[runnerID]?.idleSince = now
            noteIdleDeadline(for: runnerID, since: now)
        }
        return actions
    }

    // MARK: - Placement

    /// The ready runner with the fewest calls and room for one more, the oldest of equals.
    /// An idle one ends the search: nothing is less loaded.
    private func leastLoadedRunner() -> RunnerID? {
        var best: (id: RunnerID, inFlight: Int)?
        for id in runnerOrder {
            guard let runner = runners[id], runner.phase == .ready,
                runner.inFlight < limits.maxConcurrency
            else { continue }
            if runner.inFlight == 0 { return id }
            if best == nil || runner.inFlight < best!.inFlight { best = (id, runner.inFlight) }
        }
        return best?.id
    }

    private mutating func place(_ waiter: Waiter, on runnerID: RunnerID, now: Instant, into actions: inout [Action]) {
        let callID = nextCallID
        nextCallID += 1
        calls[callID] = Call(runner: runnerID, deadline: waiter.deadline, killAt: nil, isChild: waiter.isChild)
        noteDeadline(waiter.deadline)
        var runner = runners[runnerID]!
        runner.inFlight += 1
        if waiter.isChild { runner.children += 1 }
        runner.idleSince = nil
        if limits.singleUse { runner.phase = .draining }
        runners[runnerID] = runner
        actions.append(.placeWaiter(waiter.id, callID, runnerID))
    }

    /// Gives freed capacity to the oldest live waiters; one that has passed its deadline
    /// gets its timeout instead and is never served.
    mutating func serveWaiters(now: Instant, into actions: inout [Action]) {
        while let waiter = waiters.first {
            guard liveWaiters.contains(waiter.id) else {
                waiters.removeFirst()
                continue
            }
            if waiter.deadline <= now {
                waiters.removeFirst()
                liveWaiters.remove(waiter.id)
                actions.append(.failWaiter(waiter.id, waiterTimeout()))
                continue
            }
            guard let runner = leastLoadedRunner() else { break }
            waiters.removeFirst()
            liveWaiters.remove(waiter.id)
            place(waiter, on: runner, now: now, into: &actions)
        }
        replenish(now: now, into: &actions)
    }
}
