import FLAMEWire
import Synchronization

/// Callers waiting for their runner's answer, by call id.
///
/// Results arrive on a link's I/O thread and go straight to the waiting caller through this
/// table, without a hop through the pool actor. Whoever removes an entry resumes it, so a
/// result racing a timeout or a cancellation is delivered exactly once. Each entry names the
/// runner its call was placed on, and only that runner's results resolve it: a runner
/// answering for calls it was never given (a bug, a replayed frame) cannot answer others'.
final class CallTable: Sendable {
    typealias Continuation = CheckedContinuation<CallOutcome, any Error>
    private struct Entry {
        var runner: String
        var continuation: Continuation
    }
    private let entries = Mutex<[UInt64: Entry]>([:])

    func insert(_ id: UInt64, on runner: String, _ continuation: Continuation) {
        entries.withLock { $0[id] = Entry(runner: runner, continuation: continuation) }
    }

    func remove(_ id: UInt64) -> Continuation? {
        entries.withLock { $0.removeValue(forKey: id)?.continuation }
    }

    /// Resumes the caller of `id` with `outcome` from `runner`; false when nobody waits for
    /// it any more, or the call was placed on another runner.
    func resolve(_ id: UInt64, from runner: String, with outcome: CallOutcome) -> Bool {
        let continuation = entries.withLock { entries -> Continuation? in
            guard entries[id]?.runner == runner else { return nil }
            return entries.removeValue(forKey: id)?.continuation
        }
        guard let continuation else { return false }
        continuation.resume(returning: outcome)
        return true
    }

    /// Resumes the caller of `id` with `error`; false when nobody waits for it any more.
    @discardableResult
    func fail(_ id: UInt64, with error: any Error) -> Bool {
        guard let continuation = remove(id) else { return false }
        continuation.resume(throwing: error)
        return true
    }
}
