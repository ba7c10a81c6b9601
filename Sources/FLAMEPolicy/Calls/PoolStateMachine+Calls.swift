// Placed calls: placement, answers, cancellation by the caller, timeouts.
extension PoolStateMachine {
    /// Places `waiter` on ready runner `runnerID` as a new call.
    mutating func place(_ waiter: Waiter, on runnerID: RunnerID, now: Instant, into actions: inout [Action]) {
        let callID = allocateCallID()
        calls.insert(Call(runner: runnerID, deadline: waiter.deadline, isChild: waiter.isChild), id: callID)
        noteDeadline(waiter.deadline)
        let singleUse = limits.singleUse
        runners.update(runnerID) { runner in
            runner.callPlaced(isChild: waiter.isChild)
            if singleUse { runner.drain() }
        }
        actions.append(.placeWaiter(waiter.id, callID, runnerID))
    }

    /// A call pinned to one runner (a child service's runner): placed there regardless of
    /// load, while the runner is ready or draining.
    package mutating func checkoutPinned(runner id: RunnerID, deadline: Instant, now: Instant) throws(FLAMEError) -> CallID {
        guard let runner = runners[id], runner.isServing else {
            throw FLAMEError(.childExited, "runner \(id) is no longer running")
        }
        let callID = allocateCallID()
        calls.insert(Call(runner: id, deadline: deadline, isChild: false), id: callID)
        runners.update(id) { $0.callPlaced(isChild: false) }
        noteDeadline(deadline)
        return callID
    }

    /// The runner finished a call (with its result or a failure). With `runner`, only if the
    /// call was placed on that runner.
    package mutating func callFinished(_ id: CallID, succeeded: Bool, on runner: RunnerID? = nil, now: Instant) -> [Action] {
        guard let call = calls[id] else {
            // Tolerated: the call already ended with its runner (the exit failed it), or the
            // runner was killed for ignoring its cancellation; a runner's result for an id
            // the pool never placed (an idle check's, or a misbehaving runner's) is unknown.
            return []
        }
        if let runner, runner != call.runner {
            // Tolerated: a report about this call from another runner (stale, or hostile) is
            // ignored; the call goes on where it was placed.
            return []
        }
        calls.remove(id)
        // A cancelling call was counted when it began to cancel: timed out (its caller got
        // the timeout; an answer racing the deadline arrives here after it) or abandoned.
        if call.callerWaits {
            if succeeded { callsCompleted += 1 } else { callsFailed += 1 }
        }
        runners.update(call.runner) { $0.callFinished(isChild: call.isChild, succeeded: succeeded) }
        var actions: [Action] = []
        settle(call.runner, now: now, into: &actions)
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// The caller gave up on a placed call (its task was cancelled). The runner is asked to
    /// cancel it and is killed if it has not finished within `shutdownTimeout`.
    package mutating func callAbandoned(_ id: CallID, now: Instant) -> [Action] {
        // Tolerated races: the call ended meanwhile (answered, or its runner exited), or it
        // timed out first and the runner is already asked to cancel it.
        guard let call = calls[id], call.callerWaits else { return [] }
        let killAt = now.advanced(by: limits.shutdownTimeout)
        calls.update(id) { $0.cancel(killAt: killAt) }
        noteDeadline(killAt)
        return [.cancelCall(id, call.runner)]
    }

    /// A child service started on a runner is now running: it no longer has a deadline.
    package mutating func childStarted(_ id: CallID) {
        // Tolerated races: the placement ended meanwhile (its runner exited, or the child
        // exited before its start reached the pool), or it timed out first and the runner is
        // asked to cancel it.
        guard calls[id]?.callerWaits == true else { return }
        calls.update(id) { $0.childStarted() }
    }

    /// Calls past their deadline: the caller gets its timeout now and the runner is asked to
    /// cancel, with `shutdownTimeout` to comply; a runner that did not is killed.
    mutating func expireCalls(now: Instant, into actions: inout [Action]) {
        for (id, call) in calls.all {
            switch call.phase {
            case .running(let deadline?) where deadline <= now:
                callsTimedOut += 1
                let killAt = now.advanced(by: limits.shutdownTimeout)
                calls.update(id) { $0.cancel(killAt: killAt) }
                actions.append(.failCall(id, on: call.runner, FLAMEError(.timeout, "call timed out on runner \(call.runner)")))
                actions.append(.cancelCall(id, call.runner))
            case .cancelling(let killAt) where killAt <= now:
                calls.remove(id)
                let reason = FLAMEError(
                    .runnerKilled,
                    "runner \(call.runner) was killed: a job ignored cancellation for longer than shutdownTimeout (\(limits.shutdownTimeout))")
                kill(call.runner, reason: reason, into: &actions)
            case .running, .cancelling:
                continue
            }
        }
    }
}
