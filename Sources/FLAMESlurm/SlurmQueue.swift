import FLAME
import Synchronization

/// The launcher's view of Slurm's queue: why pending runner jobs wait, and cancelling jobs.
///
/// One poller serves every pending job of the launcher: each round is a single
/// `squeue -j ID,ID,…` however many runners pend (thousands of runners must not mean
/// thousands of squeue processes a second), and it stops when nothing pends.
final class SlurmQueue: Sendable {
    private struct Watch {
        var report: @Sendable (String) -> Void
        var last: String?
    }
    private struct State {
        var watched: [String: Watch] = [:]
        var polling = false
    }
    private let commands: SlurmCommands
    private let interval: Duration
    private let state = Mutex(State())

    init(commands: SlurmCommands, interval: Duration) {
        self.commands = commands
        self.interval = interval
    }

    /// Reports, whenever it changes, why `job` pends ("Slurm job 42 is pending (Resources)"),
    /// until ``unwatch(_:)``.
    func watch(_ job: String, report: @escaping @Sendable (String) -> Void) {
        let start = state.withLock { state -> Bool in
            state.watched[job] = Watch(report: report, last: nil)
            defer { state.polling = true }
            return !state.polling
        }
        if start { Task { await poll() } }
    }

    func unwatch(_ job: String) {
        _ = state.withLock { $0.watched.removeValue(forKey: job) }
    }

    /// `scancel JOB`: Slurm ends the job whatever its state (pending or running).
    func cancel(_ job: String) async -> ProgramRun {
        await ProgramRun.run(commands.scancel, ["--quiet", job])
    }

    private func poll() async {
        while true {
            try? await Task.sleep(for: interval)
            let jobs = state.withLock { state -> [String] in
                if state.watched.isEmpty { state.polling = false }
                return Array(state.watched.keys)
            }
            guard !jobs.isEmpty else { return }
            // A few thousand ids per squeue keep its argument well under Linux's 128 KiB.
            var states: [String: String] = [:]
            for start in stride(from: 0, to: jobs.count, by: 2_000) {
                let chunk = jobs[start..<min(start + 2_000, jobs.count)]
                let run = await ProgramRun.run(commands.squeue, ["--noheader", "--jobs=\(chunk.joined(separator: ","))", "--format=%i|%T|%r"])
                states.merge(Self.parse(run.lines)) { _, new in new }
            }
            let reports = state.withLock { state -> [(@Sendable (String) -> Void, String)] in
                var reports: [(@Sendable (String) -> Void, String)] = []
                for (job, status) in states {
                    guard var watch = state.watched[job], watch.last != status else { continue }
                    watch.last = status
                    state.watched[job] = watch
                    reports.append((watch.report, "Slurm job \(job) is \(status)"))
                }
                return reports
            }
            for (report, text) in reports { report(text) }
        }
    }

    /// `42|PENDING|Resources` lines into "pending (Resources)" by job id.
    static func parse(_ lines: [String]) -> [String: String] {
        var states: [String: String] = [:]
        for line in lines {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 3, !fields[0].isEmpty else { continue }
            let reason = fields[2] == "None" || fields[2].isEmpty ? "" : " (\(fields[2]))"
            states[String(fields[0])] = fields[1].lowercased() + reason
        }
        return states
    }
}
