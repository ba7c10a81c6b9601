import FLAME
import FLAMEWire
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One runner as a Slurm job: the `srun` process that holds it (a child of the parent) and
/// what srun and the runner said about it.
///
/// Killing it cancels the job (`scancel`) and sends srun SIGTERM, which ends a running job
/// step in milliseconds and revokes a pending allocation; SIGKILL follows if srun lingers.
final class SlurmJob: LaunchedRunner {
    private struct State {
        var srun: LocalRunnerProcess?
        var report = SrunReport()
        var killed = false
    }
    /// How long srun may take to end after SIGTERM before it gets SIGKILL.
    static let srunGrace: Duration = .seconds(10)

    private let queue: SlurmQueue
    private let request: LaunchRequest
    private let state = Mutex(State())

    init(queue: SlurmQueue, request: LaunchRequest) {
        self.queue = queue
        self.request = request
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
        if killed { kill() }
    }

    /// A line srun passed on: the runner's output, or srun's own word on the job.
    func output(_ line: String, stream: OutputStream) {
        request.output(line, stream)
        guard stream == .stderr, let message = SrunMessage(line: line) else { return }
        state.withLock { $0.report.record(message) }
        switch message {
        case .queued(let job):
            request.progress("Slurm job \(job) is pending")
            queue.watch(job, report: request.progress)
        case .allocated(let job):
            queue.unwatch(job)
        default:
            break
        }
    }

    func connected(_ hello: RunnerHello) {
        let job = state.withLock { state -> String? in
            if !hello.clusterJob.isEmpty { state.report.job = hello.clusterJob }
            state.report.node = hello.host
            state.report.pending = false
            return state.report.job
        }
        if let job { queue.unwatch(job) }
    }

    /// srun is gone: so is the job.
    func ended(_ how: String) {
        let report = state.withLock { $0.report }
        if let job = report.job { queue.unwatch(job) }
        request.ended(report.describeEnd(srun: how))
    }

    func kill() {
        let (srun, job) = state.withLock { state -> (LocalRunnerProcess?, String?) in
            state.killed = true
            return (state.srun, state.report.job)
        }
        guard let srun else { return }  // `started` kills it
        srun.signal(SIGTERM)
        let queue = self.queue
        Task {
            if let job { _ = await queue.cancel(job) }
            try? await Task.sleep(for: Self.srunGrace)
            srun.kill()  // a no-op once srun has been reaped
        }
    }
}
