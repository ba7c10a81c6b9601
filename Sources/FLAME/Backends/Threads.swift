#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// Starts a detached OS thread running `body`. For blocking I/O loops that must not occupy
/// one of Swift concurrency's few cooperative threads. (Package-wide: the admin server uses it.)
package func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 256 * 1024)
    let result = pthread_create(&thread, &attributes, { pointer in
        let box = Unmanaged<Box>.fromOpaque(pointer!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
}

/// Runs spawns on one dedicated thread that lives as long as the process.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that spawned a child exits, not the process
/// (prctl(2)): runners spawned from a Swift concurrency worker were killed seconds
/// later when that worker retired. A thread that never exits makes the signal mean "the
/// parent process died".
final class Spawner: Sendable {
    static let shared = Spawner()

    private let queue = Mutex<[@Sendable () -> Void]>([])
    private let wakeUp = DispatchSemaphore(value: 0)

    private init() {
        startThread { [self] in
            while true {
                wakeUp.wait()
                let work = queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
                work?()
            }
        }
    }

    /// Runs `body` on the spawner thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.withLock { $0.append { continuation.resume(returning: body()) } }
            wakeUp.signal()
        }
    }
}
