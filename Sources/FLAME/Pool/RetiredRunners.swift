/// The output of a pool's most recently exited runners, kept for operators: the output of a
/// runner that crashed is the one most needed, after it is gone. Bounded: the newest
/// `capacity` runners (each buffer itself bounded by `outputLinesPerRunner`).
struct RetiredRunners: Sendable {
    struct Retired: Sendable {
        let id: String
        let output: LineRing<OutputLine>
        /// Why it exited (or failed to boot).
        let exit: FLAMEError
        let exitedAt = ContinuousClock.now
    }

    let capacity: Int
    /// Oldest first.
    private(set) var runners: [Retired] = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ id: String, output: LineRing<OutputLine>, exit: FLAMEError) {
        guard capacity > 0 else { return }
        runners.append(Retired(id: id, output: output, exit: exit))
        if runners.count > capacity { runners.removeFirst(runners.count - capacity) }
    }

    func find(_ id: String) -> Retired? {
        runners.last { $0.id == id }
    }
}
