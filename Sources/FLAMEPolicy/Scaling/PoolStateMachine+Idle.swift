// The idle rule, in one place: which idle runner shuts down when.
extension PoolStateMachine {
    /// The idle delay for the ready runner of rank `rank` (its place among the ready runners
    /// in boot order, from 0). The pool's floor is its `min` longest-up ready runners: as
    /// FLAME keeps the runners it boots for `min`, they idle out only after
    /// `minIdleShutdownAfter` (nil: never), so warm state survives a burst. Every later ready
    /// runner idles out after `idleShutdownAfter`.
    func idleShutdownDelay(rank: Int) -> Duration? {
        rank < limits.min ? limits.minIdleShutdownAfter : limits.idleShutdownAfter
    }

    /// When `runner`, of rank `rank`, shuts down if nothing happens: nil when it is not
    /// idle, already runs its idle check, or is kept at `min` without a delay.
    func idleDeadline(of runner: Runner, rank: Int) -> Instant? {
        guard runner.phase == .ready, runner.isIdle, runner.idleCheck == nil,
            let since = runner.idleSince, let delay = idleShutdownDelay(rank: rank)
        else { return nil }
        return since.advanced(by: delay)
    }

    /// Ready runner `id`'s rank among the ready runners in boot order.
    func readyRank(of id: RunnerID) -> Int {
        var rank = 0
        for runner in runners.inBootOrder {
            if runner.id == id { return rank }
            if runner.phase == .ready { rank += 1 }
        }
        return rank
    }

    /// A timer tick reached ready runner `id` (of rank `rank`): past its idle deadline it
    /// runs the idle check when the pool has one, else it is stopped.
    mutating func idleOut(_ id: RunnerID, rank: Int, now: Instant, into actions: inout [Action]) {
        guard let runner = runners[id], let deadline = idleDeadline(of: runner, rank: rank), deadline <= now else { return }
        if limits.hasIdleCheck {
            let call = allocateCallID()
            runners.update(id) { $0.idleCheckStarted(call) }
            actions.append(.runIdleCheck(id, call))
        } else {
            stop(id, now: now, into: &actions)
        }
    }

    /// The idle check job answered (`idle` is false on error). Idle still: the runner stops;
    /// otherwise its idle period starts again.
    package mutating func idleCheckFinished(_ id: RunnerID, call: CallID, idle: Bool, now: Instant) -> [Action] {
        guard runners[id] != nil else {
            // Tolerated race: the runner exited while its check ran (the exit failed the check).
            return []
        }
        runners.update(id) { $0.idleCheckFinished(call) }
        let runner = runners[id]!
        // Work placed meanwhile, or a drain, took the runner out of its idle period.
        guard runner.phase == .ready, runner.isIdle else { return [] }
        var actions: [Action] = []
        if idle, let since = runner.idleSince, let delay = idleShutdownDelay(rank: readyRank(of: id)), since.advanced(by: delay) <= now {
            stop(id, now: now, into: &actions)
        } else {
            // Not idle by the check's measure (or no longer due): start the idle period again.
            runners.update(id) { $0.idlePeriodStarted(now: now) }
            noteIdleDeadline(since: now)
        }
        return actions
    }

    /// Notes the earliest idle deadline of a runner idle since `since`: whichever delay
    /// applies when the timer fires, the shorter one bounds it.
    mutating func noteIdleDeadline(since: Instant) {
        let delays = [limits.idleShutdownAfter, limits.minIdleShutdownAfter].compactMap { $0 }
        if let shortest = delays.min() { noteDeadline(since.advanced(by: shortest)) }
    }
}
