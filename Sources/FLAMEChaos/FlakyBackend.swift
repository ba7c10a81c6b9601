import FLAME
import Synchronization

/// A backend that fails every second boot at once and hangs every third, booting the rest
/// with the backend it wraps. A hung boot starts a real process that never says hello
/// (`/bin/sleep`), so the pool's `bootTimeout` must abort it and leave no process behind.
final class FlakyBackend: Backend {
    struct Counts: Sendable {
        var attempts = 0
        var failed = 0
        var hung = 0
    }
    private let wrapped: any Backend
    private let hanging = LocalProcessBackend(executable: "/bin/sleep", arguments: ["3600"])
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
            return try await hanging.boot(spec, events: events)
        }
        return try await wrapped.boot(spec, events: events)
    }
}
