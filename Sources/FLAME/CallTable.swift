import FLAMEWire
import Synchronization

/// Callers waiting for their runner's answer, by call id.
///
/// Results arrive on a link's I/O thread and go straight to the waiting caller through this
/// table, without a hop through the pool actor. Whoever removes an entry resumes it, so a
/// result racing a timeout or a cancellation is delivered exactly once.
final class CallTable: Sendable {
    typealias Continuation = CheckedContinuation<CallOutcome, any Error>
    private let entries = Mutex<[UInt64: Continuation]>([:])

    func insert(_ id: UInt64, _ continuation: Continuation) {
        entries.withLock { $0[id] = continuation }
    }

    func remove(_ id: UInt64) -> Continuation? {
        entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Resumes the caller of `id` with `outcome`; false when nobody waits for it any more.
    func resolve(_ id: UInt64, with outcome: CallOutcome) -> Bool {
        guard let continuation = remove(id) else { return false }
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
