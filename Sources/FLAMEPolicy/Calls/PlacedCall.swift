extension PoolStateMachine {
    /// Where a placed call is. The transitions, each made by one method of ``Call``:
    ///
    /// | From | Event | To |
    /// |---|---|---|
    /// | `running(deadline:)` | a child service started | `running(deadline: nil)` (it runs until stopped) |
    /// | `running(deadline:)` | its deadline passed: the caller gets its timeout, the runner is asked to cancel | `cancelling(killAt:)` |
    /// | `running` | its caller gave up (task cancelled): the runner is asked to cancel | `cancelling(killAt:)` |
    /// | `running`, `cancelling` | the runner answered | removed (counted once: `cancelling` was counted when it began) |
    /// | `cancelling` | `killAt` passed | removed, its runner killed |
    /// | `running`, `cancelling` | its runner exited | removed (a `running` call's caller fails with the exit) |
    package enum CallPhase: Equatable, Sendable {
        /// The caller waits for the answer until `deadline` (nil: a running child service).
        case running(deadline: Instant?)
        /// The caller has its answer (timeout or cancellation); the runner must finish the
        /// call by `killAt` or be killed.
        case cancelling(killAt: Instant)
    }

    /// A call (or child service) placed on a runner, until its runner answers or exits.
    package struct Call: Sendable {
        package let runner: RunnerID
        /// A child service's placement: it runs until stopped once it has started.
        package let isChild: Bool
        package private(set) var phase: CallPhase

        init(runner: RunnerID, deadline: Instant, isChild: Bool) {
            self.runner = runner
            self.isChild = isChild
            self.phase = .running(deadline: deadline)
        }

        /// Its caller is waiting for it (not yet answered by the pool).
        package var callerWaits: Bool { if case .running = phase { true } else { false } }

        /// A child service is running: it has no deadline any more.
        mutating func childStarted() {
            guard case .running = phase else { fatalError("a child started on \(runner) after its placement was \(phase)") }
            phase = .running(deadline: nil)
        }

        /// The caller has its answer without the runner's: the runner has until `killAt`.
        mutating func cancel(killAt: Instant) {
            guard case .running = phase else { fatalError("call on \(runner) cancelled twice") }
            phase = .cancelling(killAt: killAt)
        }
    }

    /// The placed calls by id, with each runner's calls indexed (an exiting runner's calls are
    /// found without walking every call of the pool).
    package struct PlacedCalls: Sendable {
        private var byID: [CallID: Call] = [:]
        private var byRunner: [RunnerID: Set<CallID>] = [:]

        package init() {}

        package subscript(id: CallID) -> Call? { byID[id] }
        package var count: Int { byID.count }
        package var all: Dictionary<CallID, Call> { byID }

        mutating func insert(_ call: Call, id: CallID) {
            guard byID[id] == nil else { fatalError("call \(id) is already placed") }
            byID[id] = call
            byRunner[call.runner, default: []].insert(id)
        }

        /// Changes call `id` (which must be placed) through its transitions.
        mutating func update(_ id: CallID, _ change: (inout Call) -> Void) {
            guard byID[id] != nil else { fatalError("no call \(id)") }
            change(&byID[id]!)
        }

        @discardableResult
        mutating func remove(_ id: CallID) -> Call? {
            guard let call = byID.removeValue(forKey: id) else { return nil }
            byRunner[call.runner]?.remove(id)
            if byRunner[call.runner]?.isEmpty == true { byRunner[call.runner] = nil }
            return call
        }

        /// Takes every call placed on `runner` out of the table, oldest first.
        mutating func removeAll(on runner: RunnerID) -> [(id: CallID, call: Call)] {
            let ids = byRunner.removeValue(forKey: runner) ?? []
            return ids.sorted().map { ($0, byID.removeValue(forKey: $0)!) }
        }
    }
}
