import CFLAMEShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The runner's reader thread as a `TaskExecutor`: the tasks of ``InlineJob`` calls run on
/// it, between reads, with no hand-off to the cooperative pool.
///
/// A job the reader decodes is enqueued here and run right after the frames of that read
/// are handled, on the same thread: the request is read, the job runs, its result is sent,
/// and the reader goes back to reading. A task that suspends and is resumed from another
/// thread is enqueued from there; an eventfd wakes the reader's `poll` for it.
final class ReaderExecutor: TaskExecutor, Sendable {
    private let pending = Mutex<[UnownedJob]>([])
    /// Written when a job is enqueued from another thread; the reader polls it.
    let wakeFD: Int32 = flame_eventfd()
    /// The reader thread, set once it starts; enqueues from it need no wake-up.
    private let reader = Mutex<pthread_t?>(nil)

    /// Marks the calling thread as the reader (the one that calls ``runPending()``).
    func attachToCurrentThread() {
        reader.withLock { $0 = pthread_self() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pending.withLock { $0.append(job) }
        let onReader = reader.withLock { $0.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        if !onReader {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Runs every enqueued job, including those they enqueue, until none is left. Called
    /// only on the reader thread.
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

    /// Consumes the wake-up count after `poll` saw the eventfd readable.
    func acknowledgeWake() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }
}
