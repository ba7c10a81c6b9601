extension PoolStateMachine {
    /// Time passed: expire waiters and calls, kill runners that ignored cancellation or
    /// shutdown, abort slow boots, shut idle runners down, retry failed boots. Recomputes
    /// ``nextTimer`` exactly.
    mutating func tick(now: Instant) -> [Action] {
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

    private mutating func expireCalls(now: Instant, into actions: inout [Action]) {
        for (id, call) in calls {
            if let deadline = call.deadline, deadline <= now {
                // The caller gets its timeout now; the runner is asked to cancel and gets
                // `shutdownTimeout` to comply.
                callsTimedOut += 1
                let killAt = now.advanced(by: limits.shutdownTimeout)
                calls[id]?.deadline = nil
                calls[id]?.killAt = killAt
                actions.append(.failCall(id, FLAMEError(.timeout, "call timed out on runner \(call.runner)")))
                actions.append(.cancelCall(id, call.runner))
            } else if let killAt = call.killAt, killAt <= now {
                calls[id] = nil
                kill(
                    call.runner,
                    reason: FLAMEError(
                        .runnerKilled,
                        "runner \(call.runner) was killed: a job ignored cancellation for longer than shutdownTimeout (\(limits.shutdownTimeout))"
                    ), into: &actions)
            }
        }
    }

    private mutating func expireRunners(now: Instant, into actions: inout [Action]) {
        var readyAhead = 0  // ready runners earlier in boot order that stay ready
        for id in runnerOrder {
            guard let runner = runners[id] else { continue }
            defer { if runners[id]?.phase == .ready { readyAhead += 1 } }
            switch runner.phase {
            case .booting(let deadline) where deadline <= now:
                let waitingFor = runner.bootStatus.map { ": \($0)" } ?? ""
                let error = FLAMEError(.bootFailed, "runner \(id) did not boot within bootTimeout (\(limits.bootTimeout))\(waitingFor)")
                actions.append(.abortBoot(id, reason: error))
                actions += runnerBootFailed(id, error: error, now: now)
            case .exiting(let killAt?) where killAt <= now:
                kill(
                    id, reason: FLAMEError(.runnerKilled, "runner \(id) did not stop within shutdownTimeout (\(limits.shutdownTimeout))"),
                    into: &actions)
            case .ready where runner.isIdle && runner.idleCheck == nil:
                guard let since = runner.idleSince,
                    let delay = idleShutdownDelay(rank: readyAhead),
                    since.advanced(by: delay) <= now
                else { continue }
                if limits.hasIdleCheck {
                    let call = allocateCallID()
                    runners[id]?.idleCheck = call
                    actions.append(.runIdleCheck(id, call))
                } else {
                    stop(id, now: now, into: &actions)
                }
            default:
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
        for waiter in waitingCallers { consider(waiter.deadline) }
        for call in calls.values {
            consider(call.deadline)
            consider(call.killAt)
        }
        var readyAhead = 0
        for id in runnerOrder {
            guard let runner = runners[id] else { continue }
            switch runner.phase {
            case .booting(let deadline): consider(deadline)
            case .exiting(let killAt): consider(killAt)
            case .ready where runner.isIdle && runner.idleCheck == nil:
                // At min without minIdleShutdownAfter there is no deadline; a scale change
                // that makes the runner eligible notes one.
                if let since = runner.idleSince, let delay = idleShutdownDelay(rank: readyAhead) {
                    consider(since.advanced(by: delay))
                }
            default: break
            }
            if runner.phase == .ready { readyAhead += 1 }
        }
        consider(bootRetryAt)
        return next
    }
}
