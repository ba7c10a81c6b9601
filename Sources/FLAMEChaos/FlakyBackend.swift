import FLAME
import Synchronization

/// A backend that fails every second boot at once and hangs every third until cancelled
/// (so past the pool's `bootTimeout`), booting the rest with the backend it wraps.
final class FlakyBackend: Backend {
    struct Counts: Sendable {
        var attempts = 0
        var failed = 0
        var hung = 0
    }
    private let wrapped: any Backend
    private let state = Mutex(Counts())

    init(wrapping backend: any Backend) {
        wrapped = backend
    }

    var counts: Counts { state.withLock { $0 } }

    func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        let attempt = state.withLock { counts -> Int in
            counts.attempts += 1
            return counts.attempts
        }
        if attempt % 2 == 0 {
            state.withLock { $0.failed += 1 }
            throw FLAMEError(.bootFailed, "chaos: boot \(attempt) refused")
        }
        if attempt % 3 == 0 {
            state.withLock { $0.hung += 1 }
            while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }
            throw CancellationError()
        }
        return try await wrapped.boot(spec, events: events)
    }
}
