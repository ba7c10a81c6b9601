import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The runner's reader thread as a `TaskExecutor`: the tasks of ``InlineJob`` calls run on
/// it, between reads, with no hand-off to the cooperative pool.
///
/// A job the reader decodes is enqueued here from the reader itself and run right after the
/// frames of that read are handled, on the same thread: the request is read, the job runs,
/// its result is sent, and the reader goes back to its blocking read. A task that suspends
/// and is resumed from another thread (a timer, another task) is passed on to the global
/// concurrent executor instead: the reader stays in its plain blocking read, with no
/// `poll` or wake-up descriptor, so runners with only ordinary jobs pay nothing for it.
final class ReaderExecutor: TaskExecutor, Sendable {
    private let pending = Mutex<[UnownedJob]>([])
    /// The reader thread, set once it starts.
    private let reader = Mutex<pthread_t?>(nil)

    /// Marks the calling thread as the reader (the one that calls ``runPending()``).
    func attachToCurrentThread() {
        reader.withLock { $0 = pthread_self() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let onReader = reader.withLock { $0.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        if onReader {
            let job = UnownedJob(job)
            pending.withLock { $0.append(job) }
        } else {
            globalConcurrentExecutor.enqueue(job)
        }
    }

    /// Runs every enqueued job, including those they enqueue, until none is left. Called
    /// only on the reader thread, after each read's frames are handled.
    func runPending() {
        while true {
            let jobs = pending.withLock { jobs -> [UnownedJob] in
                defer { jobs.removeAll(keepingCapacity: true) }
                return jobs
            }
            if jobs.isEmpty { return }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
