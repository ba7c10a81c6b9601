// Time passing: every deadline of the machine, and the one timer the owner keeps for them.
extension PoolStateMachine {
    /// Time passed: expire waiters and calls, kill runners that ignored cancellation or
    /// shutdown, abort slow boots, shut idle runners down, retry failed boots. Recomputes
    /// ``nextTimer`` exactly.
    package mutating func tick(now: Instant) -> [Action] {
        var actions: [Action] = []
        // Runners first: a boot that timed out is the cause a waiter expiring in the same
        // tick should hear about.
        expireRunners(now: now, into: &actions)
        expireCalls(now: now, into: &actions)
        expireWaiters(now: now, into: &actions)
        if let retryAt = bootRetryAt, retryAt <= now {
            bootRetryAt = nil
            replenish(now: now, into: &actions)
        }
        serveWaiters(now: now, into: &actions)
        nextTimer = computeNextTimer()
        return actions
    }

    private mutating func expireRunners(now: Instant, into actions: inout [Action]) {
        var readyAhead = 0  // ready runners earlier in boot order that stay ready
        for id in runners.order {
            guard let runner = runners[id] else { continue }
            defer { if runners[id]?.phase == .ready { readyAhead += 1 } }
            switch runner.phase {
            case .booting(let deadline) where deadline <= now:
                let waitingFor = runner.bootStatus.map { ": \($0)" } ?? ""
                let error = FLAMEError(.bootFailed, "runner \(id) did not boot within bootTimeout (\(limits.bootTimeout))\(waitingFor)")
                actions.append(.abortBoot(id, reason: error))
                bootFailed(id, error: error, now: now, into: &actions)
            case .exiting(let killAt?) where killAt <= now:
                kill(id, reason: FLAMEError(.runnerKilled, "runner \(id) did not stop within shutdownTimeout (\(limits.shutdownTimeout))"), into: &actions)
            case .ready:
                idleOut(id, rank: readyAhead, now: now, into: &actions)
            case .booting, .draining, .exiting:
                continue
            }
        }
    }

    private func computeNextTimer() -> Instant? {
        var next: Instant?
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            if next == nil || instant < next! { next = instant }
        }
        for waiter in waiters.waiting { consider(waiter.deadline) }
        for call in calls.all.values {
            switch call.phase {
            case .running(let deadline): consider(deadline)
            case .cancelling(let killAt): consider(killAt)
            }
        }
        var readyAhead = 0
        for runner in runners.inBootOrder {
            switch runner.phase {
            case .booting(let deadline): consider(deadline)
            case .exiting(let killAt): consider(killAt)
            case .ready:
                // At min without minIdleShutdownAfter there is no deadline; a scale change
                // that makes the runner eligible notes one.
                consider(idleDeadline(of: runner, rank: readyAhead))
                readyAhead += 1
            case .draining: break
            }
        }
        consider(bootRetryAt)
        return next
    }

    /// The owner's timer must fire by `deadline`.
    mutating func noteDeadline(_ deadline: Instant) {
        if let current = nextTimer, current <= deadline { return }
        nextTimer = deadline
    }
}
