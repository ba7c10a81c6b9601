extension PoolStateMachine {
    /// An operator or the app changed `min` and/or `max`. Raising `min` boots; lowering
    /// `max` cancels boots beyond it, then drains surplus runners (idle ones first), never
    /// killing work in flight.
    mutating func scale(min newMin: Int?, max newMax: Int?, now: Instant) throws(FLAMEError) -> [Action] {
        var newLimits = limits
        newLimits.min = newMin ?? limits.min
        newLimits.max = newMax ?? limits.max
        if let problem = PoolConfiguration.boundsProblem(min: newLimits.min, max: newLimits.max, runnerLimit: limits.runnerLimit) {
            throw FLAMEError(.invalidConfiguration, "pool \(limits.name): \(problem)")
        }
        limits = newLimits
        var actions: [Action] = []
        var surplus = activeRunnerCount - newLimits.max
        if surplus > 0 {
            // Boots not needed any more are cancelled first (the newest), so that runners
            // and pending boots never exceed max; then idle and least-loaded runners drain.
            for id in runnerOrder.reversed() where surplus > 0 {
                guard case .booting = runners[id]?.phase else { continue }
                let error = FLAMEError(.bootFailed, "boot of runner \(id) was cancelled: pool \(limits.name) was scaled to max \(newLimits.max)")
                actions.append(.abortBoot(id, reason: error))
                remove(id)
                actions.append(.growEnded(growth(id), error))
                surplus -= 1
            }
            let candidates = runnerOrder.compactMap { runners[$0] }.filter { $0.phase == .ready }
                .sorted { $0.inFlight < $1.inFlight }
            for runner in candidates where surplus > 0 {
                drainRunner(runner.id, now: now, into: &actions)
                surplus -= 1
            }
        }
        // Runners at min may have become eligible for idle shutdown.
        for id in runnerOrder {
            if let runner = runners[id], runner.phase == .ready, runner.isIdle, let since = runner.idleSince {
                noteIdleDeadline(for: id, since: since)
            }
        }
        replenish(now: now, into: &actions)
        return actions
    }

    /// A call pinned to one runner (a child service's runner): placed there regardless of
    /// load, while the runner is ready or draining.
    mutating func checkoutPinned(runner id: RunnerID, deadline: Instant, now: Instant) throws(FLAMEError) -> CallID {
        guard let runner = runners[id], runner.phase == .ready || runner.phase == .draining else {
            throw FLAMEError(.childExited, "runner \(id) is no longer running")
        }
        let callID = allocateCallID()
        calls[callID] = Call(runner: id, deadline: deadline, killAt: nil, isChild: false)
        runners[id]?.inFlight += 1
        runners[id]?.idleSince = nil
        noteDeadline(deadline)
        return callID
    }

    /// Drain one runner: it finishes what it runs, takes nothing new, then exits. New calls
    /// go to other runners or boot new ones. Returns nil for an unknown runner.
    mutating func drain(runner id: RunnerID, now: Instant) -> [Action]? {
        guard runners[id] != nil else { return nil }
        var actions: [Action] = []
        drainRunner(id, now: now, into: &actions)
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// Drain every runner of the pool (a rolling restart): new calls boot fresh runners.
    mutating func drainAll(now: Instant) -> [Action] {
        var actions: [Action] = []
        for id in runnerOrder { drainRunner(id, now: now, into: &actions) }
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// Kill one runner now (SIGKILL): its calls fail with `runnerKilled`. A runner still
    /// booting has no process to signal yet: its boot is aborted instead, it leaves the
    /// table at once, and a waiter it was booted for gets a replacement boot. Returns nil
    /// for an unknown runner.
    mutating func killRequested(runner id: RunnerID, reason: String, now: Instant) -> [Action]? {
        guard let runner = runners[id] else { return nil }
        let error = FLAMEError(.runnerKilled, "runner \(id) was killed: \(reason)")
        var actions: [Action] = []
        if case .booting = runner.phase {
            actions.append(.abortBoot(id, reason: error))
            remove(id)
            actions.append(.growEnded(growth(id), error))
            // Not a failed boot: no retry backoff; what the runner was booted for boots again.
            replenish(now: now, into: &actions)
            serveWaiters(now: now, into: &actions)
            return actions
        }
        kill(id, reason: error, into: &actions)
        // It no longer counts toward max: callers waiting for room get a boot now, not
        // when its exit is reported.
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// The pool shuts down: waiters fail, runners drain and exit; booting ones are aborted.
    mutating func shutdown(now: Instant) -> [Action] {
        lifecycle = .shuttingDown
        var actions: [Action] = []
        failAllWaiters(FLAMEError(.poolShutDown, "pool \(limits.name) is shutting down"), into: &actions)
        bootRetryAt = nil
        for id in runnerOrder {
            guard let runner = runners[id] else { continue }
            if case .booting = runner.phase {
                let error = FLAMEError(.poolShutDown, "pool \(limits.name) shut down during boot")
                actions.append(.abortBoot(id, reason: error))
                actions += runnerBootFailed(id, error: error, now: now)
            } else {
                drainRunner(id, now: now, into: &actions)
            }
        }
        return actions
    }

    private mutating func drainRunner(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        guard let runner = runners[id] else { return }
        switch runner.phase {
        case .ready:
            runners[id]?.phase = .draining
            settle(id, now: now, into: &actions)
        case .draining:
            settle(id, now: now, into: &actions)
        case .booting, .exiting:
            break
        }
    }
}
