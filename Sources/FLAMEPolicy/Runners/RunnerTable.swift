extension PoolStateMachine {
    /// The pool's runners by id and in boot order, counted by phase as they change.
    ///
    /// The policy asks "how many boots are pending, how many runners count toward `max`" on
    /// every call; counting a dictionary of thousands of runners each time made a call's
    /// checkout cost grow with the pool (the swarm benchmark's round trip with 2,000 runners).
    /// Every change goes through ``update(_:_:)``, which adjusts the counts for that one entry.
    package struct RunnerTable: Sendable {
        private var byID: [RunnerID: Runner] = [:]
        /// Every runner's id, in boot order (placement ties go to the oldest).
        package private(set) var order: [RunnerID] = []
        /// Runners in `booting`.
        package private(set) var bootingCount = 0
        /// Runners in `ready`.
        package private(set) var readyCount = 0

        package init() {}

        package subscript(id: RunnerID) -> Runner? { byID[id] }

        /// Adds a new runner, last in boot order.
        package mutating func insert(_ runner: Runner) {
            guard byID[runner.id] == nil else { fatalError("runner \(runner.id) is already in the table") }
            byID[runner.id] = runner
            order.append(runner.id)
            count(runner, by: 1)
        }

        /// Changes runner `id` (which must be in the table) through its transitions.
        @discardableResult
        package mutating func update<Result>(_ id: RunnerID, _ change: (inout Runner) -> Result) -> Result {
            guard let before = byID[id] else { fatalError("no runner \(id) in the table") }
            count(before, by: -1)
            let result = change(&byID[id]!)
            count(byID[id]!, by: 1)
            return result
        }

        /// Takes runner `id` out of the table.
        @discardableResult
        package mutating func remove(_ id: RunnerID) -> Runner? {
            guard let removed = byID.removeValue(forKey: id) else { return nil }
            count(removed, by: -1)
            order.removeAll { $0 == id }
            return removed
        }

        private mutating func count(_ runner: Runner, by delta: Int) {
            switch runner.phase {
            case .booting: bootingCount += delta
            case .ready: readyCount += delta
            case .draining, .exiting: break
            }
        }

        /// The runners in boot order, as they are now (a loop that changes runners walks
        /// ``order`` and reads each afresh).
        package var inBootOrder: LazyMapSequence<[RunnerID], Runner> {
            let byID = self.byID
            return order.lazy.map { byID[$0]! }
        }
        package var values: Dictionary<RunnerID, Runner>.Values { byID.values }
        package var ids: Dictionary<RunnerID, Runner>.Keys { byID.keys }
        package var count: Int { byID.count }
        package var isEmpty: Bool { byID.isEmpty }
    }
}
