// Hearing from runners: boots that succeed or fail, processes that exit, and the steps that
// move a runner between phases (see ``PoolStateMachine/Phase`` for the table).
extension PoolStateMachine {
    /// A runner said hello and was accepted. Returns nil when the runner is not expected
    /// (its boot was aborted); the owner must then kill it.
    package mutating func runnerBooted(_ id: RunnerID, now: Instant) -> [Action]? {
        guard let runner = runners[id] else {
            // Tolerated race: the boot was aborted (timed out, killed, drained, scaled away,
            // or the pool shut down) while the hello was on its way.
            return nil
        }
        guard runner.isBooting else { fatalError("runner \(id) booted again in phase \(runner.phase)") }
        runners.update(id) { $0.helloAccepted(now: now) }
        bootRetryAt = nil
        lastBootError = nil
        var actions: [Action] = [.growEnded(growth(id), nil)]
        if lifecycle != .running || activeRunnerCount > limits.max {
            runners.update(id) { $0.drain() }
        } else {
            noteIdleDeadline(since: now)
        }
        settle(id, now: now, into: &actions)
        serveWaiters(now: now, into: &actions)
        return actions
    }

    /// The backend says what a boot waits for; a later timeout of that boot names it.
    package mutating func bootProgressed(_ id: RunnerID, status: String) {
        // Tolerated race: a report that arrives after the boot ended (booted, failed or
        // aborted) has nothing left to describe.
        guard runners[id]?.isBooting == true else { return }
        runners.update(id) { $0.bootProgressed(status) }
    }

    /// A boot failed (or its process exited before the boot ended).
    package mutating func runnerBootFailed(_ id: RunnerID, error: FLAMEError, now: Instant) -> [Action] {
        guard let runner = runners[id] else {
            // Tolerated race: the machine aborted this boot, and took the runner out of the
            // table, before the backend's report of the boot's end arrived.
            return []
        }
        guard runner.isBooting else { fatalError("runner \(id) failed to boot in phase \(runner.phase)") }
        var actions: [Action] = []
        bootFailed(id, error: error, now: now, into: &actions)
        return actions
    }

    /// A runner's process exited (for any reason). Its calls fail with `reason` (or with the
    /// kill reason, when the pool killed it).
    package mutating func runnerExited(_ id: RunnerID, reason: FLAMEError, now: Instant) -> [Action] {
        guard let runner = runners[id] else {
            // Tolerated races: a process whose boot was aborted after its hello (the owner
            // killed it when `runnerBooted` returned nil), or whose boot already failed (a
            // process that exited during boot, reported when the boot ended), is not in the
            // table; nor is a runner whose exit is reported twice.
            return []
        }
        guard !runner.isBooting else {
            fatalError("runner \(id) exited while booting: the boot reports that as its failure (runnerBootFailed)")
        }
        var actions: [Action] = []
        let error = runner.killReason ?? reason
        if let check = runner.idleCheck { actions.append(.failCall(check, on: id, error)) }
        for (callID, call) in calls.removeAll(on: id) where call.callerWaits {
            callsFailed += 1
            actions.append(.failCall(callID, on: id, error))
        }
        remove(id, report: { .shrank($0) }, into: &actions)
        replenish(now: now, into: &actions)
        return actions
    }

    // MARK: - Steps

    /// A boot that failed: the runner leaves, the failure is remembered for waiters'
    /// timeouts, and a retry follows FLAME's debounce while there is demand or `min` to keep.
    mutating func bootFailed(_ id: RunnerID, error: FLAMEError, now: Instant, into actions: inout [Action]) {
        remove(id, report: { .growEnded($0, error) }, into: &actions)
        lastBootError = error
        if error.code == .buildMismatch, pendingBoots == 0, runners.readyCount == 0 {
            // Retrying cannot help: tell every waiter now instead of at its timeout.
            failAllWaiters(error, into: &actions)
        }
        if lifecycle == .running, hasUnmetDemand || activeRunnerCount < limits.min {
            scheduleBootRetry(now: now)
        }
    }

    /// Stops a boot in flight for `reason` (not a failed boot: no retry debounce follows).
    mutating func abortBoot(_ id: RunnerID, reason: FLAMEError, into actions: inout [Action]) {
        actions.append(.abortBoot(id, reason: reason))
        remove(id, report: { .growEnded($0, reason) }, into: &actions)
    }

    /// After a runner's work changed: a draining runner with no calls left is stopped; a
    /// ready one with nothing at all starts its idle period.
    mutating func settle(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        guard let runner = runners[id] else { fatalError("settle of runner \(id), which is not in the table") }
        switch runner.phase {
        case .draining where runner.callsInFlight == 0:
            stop(id, now: now, into: &actions)
        case .ready where runner.isIdle && runner.idleSince == nil:
            runners.update(id) { $0.idlePeriodStarted(now: now) }
            noteIdleDeadline(since: now)
        default:
            break
        }
    }

    /// A ready or draining runner is told to stop; it is killed after `shutdownTimeout`.
    mutating func stop(_ id: RunnerID, now: Instant, into actions: inout [Action]) {
        let killAt = now.advanced(by: limits.shutdownTimeout)
        runners.update(id) { $0.stop(killAt: killAt) }
        noteDeadline(killAt)
        actions.append(.stopRunner(id))
    }

    /// A runner with a process is killed; its calls will fail with its first kill reason.
    mutating func kill(_ id: RunnerID, reason: FLAMEError, into actions: inout [Action]) {
        let first = runners.update(id) { runner in
            runner.kill(reason: reason)
            return runner.killReason ?? reason
        }
        actions.append(.killRunner(id, reason: first))
    }

    /// Takes a runner out of the table; `report` (with the runner count after) follows, and
    /// the pool's shutdown completes when it was the last.
    mutating func remove(_ id: RunnerID, report: (PoolGrowth) -> Action, into actions: inout [Action]) {
        runners.remove(id)
        actions.append(report(growth(id)))
        completeShutdownIfDrained(into: &actions)
    }
}
