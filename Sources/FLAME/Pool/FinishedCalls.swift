import Synchronization

/// Calls whose callers have their answer (finished calls), waiting for the pool actor to account for them.
///
/// The first caller to record a call after an accounting takes the batch to the actor; the
/// others return at once instead of queueing on the actor a second time. Under load one
/// actor turn accounts for every call that finished meanwhile; alone, a caller pays what it
/// did before (an uncontended actor runs on the caller's thread). The pool also accounts
/// for them before each checkout, so a caller's next call always sees the capacity its
/// last one freed.
final class FinishedCalls: Sendable {
    struct Finished: Sendable {
        var id: UInt64
        var succeeded: Bool
        var runner: String?
        var error: String?
    }
    private struct State {
        var finished: [Finished] = []
        var accountingScheduled = false
    }
    private let state = Mutex(State())

    /// Records a finished call; true when the caller must take the batch to the actor.
    func record(_ finished: Finished) -> Bool {
        state.withLock { state in
            state.finished.append(finished)
            guard !state.accountingScheduled else { return false }
            state.accountingScheduled = true
            return true
        }
    }

    /// The calls recorded since the last take.
    func take() -> [Finished] {
        state.withLock { state in
            state.accountingScheduled = false
            defer { state.finished.removeAll(keepingCapacity: true) }
            return state.finished
        }
    }
}
