import FLAME
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Starts calls at a rate that swells and ebbs around `rate` over a 30-second cycle, so
/// pools grow and shrink, and prints a status line every second.
struct LoadGenerator: Service {
    let thumbnails: Pool
    let reports: Pool
    let rate: Double
    let duration: Double?

    func run() async throws {
        let started = ContinuousClock.now
        let stop = duration.map { started + .milliseconds(Int64($0 * 1000)) }
        var next = started
        var nextReport = started + .seconds(1)
        var sequence = 0
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    let now = ContinuousClock.now
                    if let stop, now >= stop { break }
                    if now >= nextReport {
                        await printStatus(elapsed: now - started)
                        nextReport += .seconds(1)
                    }
                    sequence += 1
                    let id = sequence
                    if id % 5 == 0 {
                        group.addTask { _ = try? await reports.call(Report(reportID: id / 5)) }
                    } else {
                        group.addTask { _ = try? await thumbnails.call(Thumbnail(imageID: id, width: 96 + (id % 4) * 32)) }
                    }
                    // 0.2× to 1.8× the nominal rate over a 30 s cycle.
                    let phase = Double((now - started).components.seconds % 30) / 30
                    let currentRate = rate * (1 + 0.8 * sin(2 * Double.pi * phase))
                    next += .nanoseconds(Int64(1_000_000_000 / max(currentRate, 0.1)))
                    if next > now { try await Task.sleep(until: next, clock: .continuous) } else { next = now }
                }
            }
        } onGracefulShutdown: {}
    }

    private func printStatus(elapsed: Duration) async {
        let seconds = elapsed.components.seconds
        var parts: [String] = []
        for pool in [thumbnails, reports] {
            let status = await pool.status()
            let busy = status.runners.filter { $0.state == .busy }.count
            parts.append(
                "\(status.name): \(status.callsCompleted) done \(status.callsFailed) failed \(status.callsTimedOut) timed out, "
                    + "runners \(busy)/\(status.runners.count) busy, queue \(status.queueDepth)")
        }
        print("[\(seconds)s] " + parts.joined(separator: " | "))
    }
}
