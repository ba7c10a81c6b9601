// What operators (flamectl, flame-top, the app) do to single runners: drain and kill.
extension PoolStateMachine {
    /// Drain one runner: it finishes what it runs, takes nothing new, then exits. New calls
    /// go to other runners or boot new ones. A runner still booting runs nothing, so its boot
    /// is aborted (a caller it was booted for gets another boot); one already exiting is left
    /// as it is. Returns nil for an unknown runner.
    package mutating func drainRequested(runner id: RunnerID, now: Instant) -> [Action]? {
        guard let runner = runners[id] else { return nil }
        var actions: [Action] = []
        switch runner.phase {
        case .booting:
            abortBoot(id, reason: FLAMEError(.bootFailed, "boot of runner \(id) was cancelled: the runner was drained"), into: &actions)
            replenish(now: now, into: &actions)
        case .ready, .draining:
            drainRunner(id, now: now, into: &actions)
        case .exiting:
            break  // already on its way out
        }
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// Drain every runner of the pool (a rolling restart): new calls boot fresh runners.
    /// Boots in flight are left to finish: they are the fresh runners.
    package mutating func drainAllRequested(now: Instant) -> [Action] {
        var actions: [Action] = []
        for id in runners.order where runners[id]?.isServing == true { drainRunner(id, now: now, into: &actions) }
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// Kill one runner now (SIGKILL): its calls fail with `runnerKilled`. A runner still
    /// booting has no process to signal yet: its boot is aborted instead, it leaves the
    /// table at once, and a waiter it was booted for gets a replacement boot. Returns nil
    /// for an unknown runner.
    package mutating func killRequested(runner id: RunnerID, reason: String, now: Instant) -> [Action]? {
        guard let runner = runners[id] else { return nil }
        let error = FLAMEError(.runnerKilled, "runner \(id) was killed: \(reason)")
        var actions: [Action] = []
        if runner.isBooting {
            abortBoot(id, reason: error, into: &actions)
            // Not a failed boot: no retry debounce; what the runner was booted for boots again.
            replenish(now: now, into: &actions)
        } else {
            kill(id, reason: error, into: &actions)
        }
        // It no longer counts toward max: callers waiting for room get a boot now, not when
        // its exit is reported.
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// A ready or draining runner drains; stopped at once when it has no calls.
    mutating func drainRunner(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        runners.update(id) { $0.drain() }
        settle(id, now: now, into: &actions)
    }
}
