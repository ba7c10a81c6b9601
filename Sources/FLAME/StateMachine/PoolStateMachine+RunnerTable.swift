extension PoolStateMachine {
    /// The pool's runners by id, counted by phase as they change.
    ///
    /// The policy asks "how many boots are pending, how many runners count toward `max`" on
    /// every call; counting a dictionary of thousands of runners each time made a call's
    /// checkout cost grow with the pool (the swarm benchmark's round trip with 2,000 runners).
    /// Every write goes through the subscript, which adjusts the counts for that one entry.
    struct RunnerTable: Sendable, Sequence {
        private(set) var byID: [RunnerID: Runner] = [:]
        /// Runners in `booting`.
        private(set) var bootingCount = 0
        /// Runners in `ready`.
        private(set) var readyCount = 0

        subscript(id: RunnerID) -> Runner? {
            get { byID[id] }
            set {
                count(byID[id], by: -1)
                count(newValue, by: 1)
                byID[id] = newValue
            }
        }

        @discardableResult
        mutating func removeValue(forKey id: RunnerID) -> Runner? {
            let removed = byID.removeValue(forKey: id)
            count(removed, by: -1)
            return removed
        }

        private mutating func count(_ runner: Runner?, by delta: Int) {
            switch runner?.phase {
            case .booting: bootingCount += delta
            case .ready: readyCount += delta
            case .draining, .exiting, nil: break
            }
        }

        var values: Dictionary<RunnerID, Runner>.Values { byID.values }
        var keys: Dictionary<RunnerID, Runner>.Keys { byID.keys }
        var count: Int { byID.count }
        var isEmpty: Bool { byID.isEmpty }
        func makeIterator() -> Dictionary<RunnerID, Runner>.Iterator { byID.makeIterator() }
    }
}
