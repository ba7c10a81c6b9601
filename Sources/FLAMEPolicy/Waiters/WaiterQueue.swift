import DequeModule

extension PoolStateMachine {
    /// A caller waiting for a runner (for a call, or for a child service when `isChild`).
    package struct Waiter: Sendable {
        package let id: WaiterID
        package let deadline: Instant
        package let isChild: Bool
    }

    /// The callers waiting for a runner, oldest first.
    ///
    /// A waiter's life has one transition out of `waiting`, and every one takes it out of
    /// the queue, so it is answered exactly once by the action the machine emits with it:
    ///
    /// | From | Event | To (action) |
    /// |---|---|---|
    /// | `waiting` | a ready runner has room | placed (`placeWaiter`) |
    /// | `waiting` | its deadline passed | failed (`failWaiter`, timeout) |
    /// | `waiting` | shutdown; a boot failure no retry can mend | failed (`failWaiter`) |
    /// | `waiting` | its caller's task was cancelled | cancelled (the owner resumes it) |
    package struct WaiterQueue: Sendable {
        /// Waiting callers in arrival order; cancelled ones stay until they reach the front.
        private var queue = Deque<Waiter>()
        /// The ids of the callers still waiting.
        package private(set) var live = Set<WaiterID>()

        package init() {}

        package var count: Int { live.count }
        package var isEmpty: Bool { live.isEmpty }

        /// The callers still waiting, oldest first.
        package var waiting: [Waiter] { Array(queue.lazy.filter { live.contains($0.id) }) }

        mutating func enqueue(_ waiter: Waiter) {
            guard !live.contains(waiter.id) else { fatalError("waiter \(waiter.id) is already queued") }
            queue.append(waiter)
            live.insert(waiter.id)
        }

        /// The caller's task was cancelled: true if it was still waiting. False is a tolerated
        /// race: the cancellation arrived after the waiter was placed or failed (its answer
        /// is already on its way, and the cancellation is the call's business now).
        mutating func cancel(_ id: WaiterID) -> Bool {
            live.remove(id) != nil
        }

        /// The oldest caller still waiting (cancelled ones in front of it are dropped).
        mutating func oldest() -> Waiter? {
            while let first = queue.first, !live.contains(first.id) { queue.removeFirst() }
            return queue.first
        }

        /// Takes the oldest waiting caller out of the queue, to be answered.
        mutating func removeOldest() -> Waiter {
            guard let first = oldest() else { fatalError("no waiter to remove") }
            queue.removeFirst()
            live.remove(first.id)
            return first
        }

        /// Takes every caller whose deadline has passed out of the queue, to be failed.
        mutating func removeExpired(now: Instant) -> [Waiter] {
            let live = self.live
            let expired = Array(queue.lazy.filter { live.contains($0.id) && $0.deadline <= now })
            for waiter in expired { self.live.remove(waiter.id) }
            let stillLive = self.live
            queue.removeAll { !stillLive.contains($0.id) }
            return expired
        }

        /// Takes every waiting caller out of the queue, to be failed.
        mutating func removeAll() -> [Waiter] {
            let all = waiting
            queue.removeAll()
            live.removeAll()
            return all
        }
    }
}
