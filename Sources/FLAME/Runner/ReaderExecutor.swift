import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The runner's reader thread as a `TaskExecutor`: the tasks of ``InlineJob`` calls run on
/// it, between reads, with no hand-off to the cooperative pool.
///
/// Only the tasks the reader starts while it handles a read's frames (``acceptingJobs(_:)``)
/// are queued here; ``runPending()`` then runs each once, on the reader, right after those
/// frames. Everything else that prefers this executor — a task resumed after a suspension,
/// a `Task.yield()`, child tasks (`async let`, task groups) an inline job starts — goes to the
/// global concurrent executor. So the reader never spins on work it made itself, never runs
/// an inline job's children one after another, and stays in its plain blocking read (no
/// `poll`, no wake-up descriptor), and runners with only ordinary jobs pay nothing for it.
final class ReaderExecutor: TaskExecutor, Sendable {
    private struct State {
        var reader: pthread_t?
        var accepting = false
        var pending: [UnownedJob] = []
    }
    private let state = Mutex(State())

    /// Marks the calling thread as the reader (the one that calls the methods below).
    func attachToCurrentThread() {
        state.withLock { $0.reader = pthread_self() }
    }

    /// Runs `body` (handling one read's frames) with this executor taking the tasks the
    /// reader starts meanwhile.
    func acceptingJobs<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { $0.accepting = true }
        defer { state.withLock { $0.accepting = false } }
        return try body()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let queued = state.withLock { state -> Bool in
            guard state.accepting, let reader = state.reader, pthread_equal(reader, pthread_self()) != 0 else { return false }
            state.pending.append(unowned)
            return true
        }
        if !queued { globalConcurrentExecutor.enqueue(unowned) }
    }

    /// Runs, once each, the jobs queued while the last read's frames were handled. Called
    /// only on the reader thread.
    func runPending() {
        let jobs = state.withLock { state -> [UnownedJob] in
            defer { state.pending.removeAll(keepingCapacity: true) }
            return state.pending
        }
        for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
