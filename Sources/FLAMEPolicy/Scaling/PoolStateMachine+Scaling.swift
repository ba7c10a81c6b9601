// How many runners: booting for `min` and for waiting callers, FLAME's retry debounce, and
// operators changing `min` and `max`.
extension PoolStateMachine {
    /// The pool starts: boot `min` runners.
    package mutating func start(now: Instant) -> [Action] {
        var actions: [Action] = []
        while activeRunnerCount < limits.min { boot(now: now, into: &actions) }
        return actions
    }

    /// An operator or the app changed `min` and/or `max` (refused, changing nothing, outside
    /// ``PoolBounds`` or once the pool shuts down). Raising `min` boots; lowering `max` cancels boots beyond it, then
    /// drains surplus runners (idle ones first), never killing work in flight.
    package mutating func scaleRequested(min newMin: Int?, max newMax: Int?, now: Instant) throws(FLAMEError) -> [Action] {
        guard lifecycle == .running else { throw FLAMEError(.poolShutDown, "pool \(limits.name) is shutting down: it cannot be scaled") }
        var newLimits = limits
        newLimits.min = newMin ?? limits.min
        newLimits.max = newMax ?? limits.max
        if let problem = PoolBounds.problem(min: newLimits.min, max: newLimits.max, runnerLimit: limits.runnerLimit) {
            throw FLAMEError(.invalidConfiguration, "pool \(limits.name): \(problem)")
        }
        limits = newLimits
        var actions: [Action] = []
        var surplus = activeRunnerCount - newLimits.max
        // Boots not needed any more are cancelled first (the newest), so that runners and
        // pending boots never exceed max; then idle and least-loaded runners drain.
        for id in runners.order.reversed() where surplus > 0 && runners[id]?.isBooting == true {
            abortBoot(id, reason: FLAMEError(.bootFailed, "boot of runner \(id) was cancelled: pool \(limits.name) was scaled to max \(newLimits.max)"), into: &actions)
            surplus -= 1
        }
        let candidates = runners.inBootOrder.filter { $0.phase == .ready }.sorted { $0.inFlight < $1.inFlight }
        for runner in candidates.prefix(Swift.max(surplus, 0)) {
            drainRunner(runner.id, now: now, into: &actions)
        }
        // Runners at min may have become eligible for idle shutdown.
        for runner in runners.inBootOrder where runner.phase == .ready && runner.isIdle {
            if let since = runner.idleSince { noteIdleDeadline(since: since) }
        }
        replenish(now: now, into: &actions)
        return actions
    }

    /// Starts a boot: a new runner, counted toward `max` at once.
    mutating func boot(now: Instant, into actions: inout [Action]) {
        let id = "\(limits.name)-\(nextRunnerNumber)"
        nextRunnerNumber += 1
        let deadline = now.advanced(by: limits.bootTimeout)
        runners.insert(Runner(id: id, bootDeadline: deadline))
        noteDeadline(deadline)
        actions.append(.growStarted(growth(id)))
        actions.append(.bootRunner(id))
    }

    /// Boots runners while there is unmet demand or fewer than `min`, unless a failed boot's
    /// retry is pending or the pool is shutting down.
    mutating func replenish(now: Instant, into actions: inout [Action]) {
        guard lifecycle == .running, bootRetryAt == nil else { return }
        while activeRunnerCount < limits.max, activeRunnerCount < limits.min || hasUnmetDemand {
            boot(now: now, into: &actions)
        }
    }

    /// More callers wait than the pending boots will serve, and `max` leaves room.
    var hasUnmetDemand: Bool {
        waiters.count > pendingBoots * limits.maxConcurrency && activeRunnerCount < limits.max
    }

    /// FLAME's debounce: after a failed boot, the next one waits ``bootRetryDebounce``.
    mutating func scheduleBootRetry(now: Instant) {
        let at = now.advanced(by: Self.bootRetryDebounce)
        bootRetryAt = at
        noteDeadline(at)
    }

    func growth(_ id: RunnerID) -> PoolGrowth {
        PoolGrowth(pool: limits.name, runnerID: id, count: activeRunnerCount)
    }
}
