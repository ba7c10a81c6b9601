import DequeModule

// The machine's internal steps, shared by its events in PoolStateMachine.swift and the
// +Timers and +Operations extensions.
extension PoolStateMachine {
    mutating func boot(now: Instant, into actions: inout [Action]) {
        let id = "\(limits.name)-\(nextRunnerNumber)"
        nextRunnerNumber += 1
        let deadline = now.advanced(by: limits.bootTimeout)
        runners[id] = Runner(id: id, phase: .booting(deadline: deadline))
        runnerOrder.append(id)
        noteDeadline(deadline)
        actions.append(.growStarted(growth(id)))
        actions.append(.bootRunner(id))
    }

    /// Boots runners while there is unmet demand or fewer than `min`, unless a failed boot's
    /// retry is pending.
    mutating func replenish(now: Instant, into actions: inout [Action]) {
        guard lifecycle == .running, bootRetryAt == nil else { return }
        while activeRunnerCount < limits.max, activeRunnerCount < limits.min || hasUnmetDemand {
            boot(now: now, into: &actions)
        }
    }

    var hasUnmetDemand: Bool {
        liveWaiters.count > pendingBoots * limits.maxConcurrency && activeRunnerCount < limits.max
    }

    mutating func scheduleBootRetry(now: Instant) {
        let at = now.advanced(by: Self.bootRetryDebounce)
        bootRetryAt = at
        noteDeadline(at)
    }



    /// After a runner's work changed: a draining runner with no calls left is stopped; a
    /// ready one with nothing at all starts its idle period.
    mutating func settle(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        guard let runner = runners[id] else { return }
        switch runner.phase {
        case .draining where runner.callsInFlight == 0:
            stop(id, now: now, into: &actions)
        case .ready where runner.isIdle && runner.idleSince == nil:
            runners[id]?.idleSince = now
            noteIdleDeadline(for: id, since: now)
        default:
            break
        }
    }

    mutating func stop(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        guard var runner = runners[id] else { return }
        if case .exiting = runner.phase { return }
        let killAt = now.advanced(by: limits.shutdownTimeout)
        runner.phase = .exiting(killAt: killAt)
        runners[id] = runner
        noteDeadline(killAt)
        actions.append(.stopRunner(id))
    }

    mutating func kill(_ id: RunnerID, reason: FLAMEError, into actions: inout [Action]) {
        guard var runner = runners[id] else { return }
        runner.phase = .exiting(killAt: nil)
        runner.killReason = runner.killReason ?? reason
        runners[id] = runner
        actions.append(.killRunner(id))
    }

    mutating func remove(_ id: RunnerID) {
        runners[id] = nil
        runnerOrder.removeAll { $0 == id }
    }

    mutating func failAllWaiters(_ error: FLAMEError, into actions: inout [Action]) {
        for waiter in waiters where liveWaiters.contains(waiter.id) {
            actions.append(.failWaiter(waiter.id, error))
        }
        waiters.removeAll()
        liveWaiters.removeAll()
    }

    /// The idle delay that applies now: beyond `min`, `idleShutdownAfter`; at or below it,
    /// `minIdleShutdownAfter` (nil: never).
    /// The idle rule, in one place. The pool's floor is its `min` longest-up ready runners
    /// (the first in boot order): as FLAME keeps the runners it boots for `min`, they idle
    /// out only after `minIdleShutdownAfter` (nil: never), so warm state survives a burst.
    /// Every later ready runner idles out after `idleShutdownAfter`. `rank` is the runner's
    /// place among the ready runners in boot order, counting from 0.
    func idleShutdownDelay(rank: Int) -> Duration? {
        rank < limits.min ? limits.minIdleShutdownAfter : limits.idleShutdownAfter
    }

    /// Ready runner `id`'s rank among the ready runners in boot order.
    func readyRank(of id: RunnerID) -> Int {
        var rank = 0
        for other in runnerOrder {
            if other == id { return rank }
            if runners[other]?.phase == .ready { rank += 1 }
        }
        return rank
    }

    mutating func noteIdleDeadline(for id: RunnerID, since: Instant) {
        // Whichever delay applies when the timer fires, the shorter one bounds it.
        let delays = [limits.idleShutdownAfter, limits.minIdleShutdownAfter].compactMap { $0 }
        if let shortest = delays.min() { noteDeadline(since.advanced(by: shortest)) }
    }

    mutating func noteDeadline(_ deadline: Instant) {
        if let current = nextTimer, current <= deadline { return }
        nextTimer = deadline
    }









    mutating func allocateCallID() -> CallID {
        defer { nextCallID += 1 }
        return nextCallID
    }

    var waitingCallers: [Waiter] { waiters.filter { liveWaiters.contains($0.id) } }

    mutating func expireWaiters(now: Instant, into actions: inout [Action]) {
        for waiter in waiters where liveWaiters.contains(waiter.id) && waiter.deadline <= now {
            liveWaiters.remove(waiter.id)
            actions.append(.failWaiter(waiter.id, waiterTimeout()))
        }
        waiters.removeAll { !liveWaiters.contains($0.id) }
    }

    func waiterTimeout() -> FLAMEError {
        var message = "timed out waiting for a runner of pool \(limits.name)"
            + " (\(activeRunnerCount) runners, \(pendingBoots) booting, max \(limits.max))"
        if let lastBootError { message += "; last boot failure: \(lastBootError.message)" }
        return FLAMEError(.timeout, message)
    }

    func growth(_ id: RunnerID) -> PoolGrowth {
        PoolGrowth(pool: limits.name, runnerID: id, count: activeRunnerCount)
    }
}
