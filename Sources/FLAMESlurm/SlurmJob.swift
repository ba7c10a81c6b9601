import FLAME
import FLAMEWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One runner as a Slurm job: the `srun` process that holds it (a child of the parent) and
/// what srun and the runner said about it.
///
/// Killing it sends srun SIGTERM, which ends a running job step in milliseconds and revokes
/// a pending allocation, and cancels the job (`scancel`) at the same time when its id is
/// known; SIGKILL follows if srun has not ended within ``srunGrace``.
final class SlurmJob: LaunchedRunner {
    private struct State {
        var srun: LocalRunnerProcess?
        var report = SrunReport()
        /// The job id ``SlurmQueue`` watches (from srun's "queued" line), until unwatched.
        var watched: String?
        var killed = false
    }
    /// How long srun may take to end after SIGTERM before it gets SIGKILL.
    static let srunGrace: Duration = .seconds(10)

    private let queue: SlurmQueue
    private let request: LaunchRequest
    /// The address the runner dials, for the boot's progress ("waiting for its hello").
    private let parentAddress: String
    private let state = Mutex(State())

    init(queue: SlurmQueue, request: LaunchRequest, parentAddress: String) {
        self.queue = queue
        self.request = request
        self.parentAddress = parentAddress
    }

    /// The runner's own pid is known from its hello only (it runs on a node).
    var pid: Int32? { nil }
    /// The node is known from the runner's hello.
    var host: String? { nil }
    var clusterJob: String? { state.withLock { $0.report.job } }

    func started(_ srun: LocalRunnerProcess) {
        let killed = state.withLock { state -> Bool in
            state.srun = srun
            return state.killed
        }
        request.progress("srun started; waiting for the runner's hello (it dials \(parentAddress))")
        if killed { end(srun, job: nil) }
    }

    /// A line srun passed on: the runner's output, or srun's own word on the job.
    func output(_ line: String, stream: OutputStream) {
        request.output(line, stream)
        guard stream == .stderr, let message = SrunMessage(line: line) else { return }
        let unwatch = state.withLock { state -> String? in
            state.report.record(message)
            switch message {
            case .queued(let job):
                state.watched = job
                return nil
            case .allocated:
                defer { state.watched = nil }
                return state.watched
            default:
                return nil
            }
        }
        switch message {
        case .queued(let job):
            request.progress("Slurm job \(job) is pending")
            queue.watch(job, report: request.progress)
        case .allocated(let job):
            if let unwatch { queue.unwatch(unwatch) }
            request.progress("Slurm job \(job) is running; waiting for the runner's hello (it dials \(parentAddress))")
        default:
            break
        }
    }

    func connected(_ hello: RunnerHello) {
        let watched = state.withLock { state -> String? in
            if !hello.clusterJob.isEmpty { state.report.job = hello.clusterJob }
            state.report.node = hello.host
            defer { state.watched = nil }
            return state.watched
        }
        if let watched { queue.unwatch(watched) }
    }

    /// srun is gone: so is the job.
    func ended(_ how: String) {
        let (report, watched) = state.withLock { state in
            defer { state.watched = nil }
            return (state.report, state.watched)
        }
        if let watched { queue.unwatch(watched) }
        request.ended(report.describeEnd(srun: how))
    }

    func kill() {
        let (srun, job, first) = state.withLock { state -> (LocalRunnerProcess?, String?, Bool) in
            defer { state.killed = true }
            return (state.srun, state.report.job, !state.killed)
        }
        guard first, let srun else { return }  // killed already, or `started` ends it
        end(srun, job: job)
    }

    private func end(_ srun: LocalRunnerProcess, job: String?) {
        srun.signal(SIGTERM)
        if let job {
            let queue = self.queue
            Task { _ = await queue.cancel(job) }
        }
        Task {
            try? await Task.sleep(for: Self.srunGrace)
            srun.kill()  // a no-op once srun has been reaped
        }
    }
}
