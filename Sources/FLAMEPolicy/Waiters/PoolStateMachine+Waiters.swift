// Callers waiting for a runner: checkout, cancellation, serving in order, timeouts.
extension PoolStateMachine {
    /// A caller wants a runner (for a call, or for a child service when `isChild`).
    /// Returns the caller's waiter id; an action `placeWaiter` or `failWaiter` for that id
    /// may already be among the actions.
    package mutating func checkoutRequested(deadline: Instant, isChild: Bool = false, now: Instant) -> (WaiterID, [Action]) {
        let waiter = Waiter(id: nextWaiterID, deadline: deadline, isChild: isChild)
        nextWaiterID += 1
        guard lifecycle == .running else {
            return (waiter.id, [.failWaiter(waiter.id, FLAMEError(.poolShutDown, "pool \(limits.name) is shutting down"))])
        }
        var actions: [Action] = []
        if let runner = leastLoadedRunner() {
            place(waiter, on: runner, now: now, into: &actions)
            return (waiter.id, actions)
        }
        // FLAME: boot one more only if the pending boots cannot cover the waiting callers
        // (pending × maxConcurrency ≤ waiting, counted before this caller queues).
        let waitingBefore = waiters.count
        waiters.enqueue(waiter)
        noteDeadline(deadline)
        if activeRunnerCount < limits.max, bootRetryAt == nil,
            pendingBoots * limits.maxConcurrency <= waitingBefore
        {
            boot(now: now, into: &actions)
        }
        return (waiter.id, actions)
    }

    /// A waiting caller's task was cancelled. Returns whether it was still waiting (then the
    /// owner resumes it with `CancellationError`); see ``WaiterQueue/cancel(_:)``.
    package mutating func waiterCancelled(_ waiter: WaiterID) -> Bool {
        waiters.cancel(waiter)
    }

    /// Gives freed capacity to the oldest waiting callers; one that has passed its deadline
    /// gets its timeout instead and is never served. Then boots for what is left.
    mutating func serveWaiters(now: Instant, into actions: inout [Action]) {
        while let waiter = waiters.oldest() {
            if waiter.deadline <= now {
                _ = waiters.removeOldest()
                actions.append(.failWaiter(waiter.id, waiterTimeout()))
                continue
            }
            guard let runner = leastLoadedRunner() else { break }
            _ = waiters.removeOldest()
            place(waiter, on: runner, now: now, into: &actions)
        }
        replenish(now: now, into: &actions)
    }

    /// The ready runner with the fewest calls and room for one more, the oldest of equals.
    /// An idle one ends the search: nothing is less loaded.
    func leastLoadedRunner() -> RunnerID? {
        var best: Runner?
        for runner in runners.inBootOrder where runner.phase == .ready && runner.inFlight < limits.maxConcurrency {
            if runner.inFlight == 0 { return runner.id }
            if best.map({ runner.inFlight < $0.inFlight }) ?? true { best = runner }
        }
        return best?.id
    }

    mutating func expireWaiters(now: Instant, into actions: inout [Action]) {
        for waiter in waiters.removeExpired(now: now) {
            actions.append(.failWaiter(waiter.id, waiterTimeout()))
        }
    }

    mutating func failAllWaiters(_ error: FLAMEError, into actions: inout [Action]) {
        for waiter in waiters.removeAll() {
            actions.append(.failWaiter(waiter.id, error))
        }
    }

    /// A waiter's timeout, saying what the pool looked like and why boots failed.
    func waiterTimeout() -> FLAMEError {
        var message = "timed out waiting for a runner of pool \(limits.name)"
            + " (\(activeRunnerCount) runners, \(pendingBoots) booting, max \(limits.max))"
        if let lastBootError { message += "; last boot failure: \(lastBootError.message)" }
        return FLAMEError(.timeout, message)
    }
}
