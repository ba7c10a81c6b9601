import FLAMEWire
import Synchronization

/// CPU and memory a runner reported in its last heartbeats.
struct RunnerUsage: Sendable {
    var cpuNanoseconds: UInt64 = 0
    var residentBytes: UInt64 = 0
    /// CPU time over the last heartbeat interval, in percent of one core.
    var cpuPercent: Double = 0
    var reportedAt: ContinuousClock.Instant?
}

/// The pool's ear on one runner: routes results to waiting callers, keeps usage and output,
/// and tells the pool actor about what needs its attention.
final class RunnerMonitor: RunnerEventHandler {
    enum Notice: Sendable {
        /// A result for a call whose caller no longer waits (timed out, cancelled).
        case orphanedResult(callID: UInt64, succeeded: Bool)
        case childExited(callID: UInt64, CallOutcome)
        case exited(FLAMEError)
        /// What the backend says the boot waits for.
        case bootProgress(String)
    }

    let runnerID: String
    let startedAt = ContinuousClock.now
    let output: OutputBuffer
    private let calls: CallTable
    private let notify: @Sendable (Notice) -> Void
    private let usage = Mutex(RunnerUsage())

    init(runnerID: String, calls: CallTable, outputCapacity: Int, notify: @escaping @Sendable (Notice) -> Void) {
        self.runnerID = runnerID
        self.calls = calls
        self.output = OutputBuffer(capacity: outputCapacity)
        self.notify = notify
    }

    var lastUsage: RunnerUsage { usage.withLock { $0 } }

    func received(_ message: RunnerMessage) {
        switch message {
        case .result(let id, let outcome):
            if !calls.resolve(id, from: runnerID, with: outcome) {
                if case .success = outcome {
                    notify(.orphanedResult(callID: id, succeeded: true))
                } else {
                    notify(.orphanedResult(callID: id, succeeded: false))
                }
            }
        case .childExited(let id, let outcome):
            notify(.childExited(callID: id, outcome))
        case .heartbeat(let cpu, let rss):
            let now = ContinuousClock.now
            usage.withLock { usage in
                if let last = usage.reportedAt, cpu >= usage.cpuNanoseconds {
                    let wall = (now - last).nanoseconds
                    if wall > 0 { usage.cpuPercent = Double(cpu - usage.cpuNanoseconds) / Double(wall) * 100 }
                }
                usage.cpuNanoseconds = cpu
                usage.residentBytes = rss
                usage.reportedAt = now
            }
        case .hello:
            break  // handled by the backend before the link exists
        }
    }

    func output(_ line: String, stream: OutputStream) {
        output.append(OutputLine(stream: stream, text: line))
    }

    func exited(_ reason: FLAMEError) {
        notify(.exited(reason))
    }

    func bootProgress(_ status: String) {
        notify(.bootProgress(status))
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
