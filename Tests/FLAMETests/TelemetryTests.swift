@testable import FLAME
import FLAMETestJobs
import Foundation
import FLAMETestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct LatencyWindowTests {
    @Test func percentilesComeFromTheWindowAndOldSlicesExpire() {
        let window = LatencyWindow(window: .seconds(60), sliceCount: 6)
        let start = ContinuousClock.now
        for ms in 1...100 { window.record(.milliseconds(ms), at: start) }
        let summary = window.summary(at: start)
        #expect(summary.count == 100)
        #expect((49_000...51_000).contains(summary.p50Microseconds))
        #expect((98_000...100_000).contains(summary.p99Microseconds))
        #expect((99_000...101_000).contains(summary.maxMicroseconds))
        // Still inside the window at +50 s; gone at +70 s.
        #expect(window.summary(at: start + .seconds(50)).count == 100)
        window.record(.microseconds(5), at: start + .seconds(70))
        let later = window.summary(at: start + .seconds(70))
        #expect(later.count == 1)
        #expect(later.maxMicroseconds == 5)
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolTelemetryTests {
    @Test func statusCarriesLatenciesAndTheLastErrorOfEachRunner() async throws {
        try await withPool(PoolConfiguration(name: "telemetry", max: 1)) { pool in
            for i in 0..<20 { _ = try await pool.call(Sleep(milliseconds: i % 2 == 0 ? 1 : 20)) }
            _ = await caught { try await pool.call(Fail(codable: false)) }
            let status = await pool.status()
            #expect(status.latency.count == 21)
            #expect(status.latency.p50Microseconds > 0)
            #expect(status.latency.maxMicroseconds >= 20_000)
            #expect(status.bootLatency.count == 1)
            #expect(status.runners.first?.lastError == "plain failure happened")
        }
    }

    @Test func poolsPublishEventsAndAreRegistered() async throws {
        let events = PoolEvents.shared.subscribe()
        try await withPool(PoolConfiguration(name: "events", max: 2)) { pool in
            #expect(PoolRegistry.shared.pool(named: "events") === pool)
            let pid = try await pool.call(WhoAmI())
            try await pool.scale(min: 0, max: 1)
            _ = await caught { try await pool.call(Sleep(milliseconds: 5_000), timeout: .milliseconds(300)) }
            kill(pid, SIGKILL)
            var seen: [PoolEvent.Kind] = []
            for await event in events where event.pool == "events" {
                seen.append(event.kind)
                if event.kind == .runnerExited {
                    #expect(event.message.contains("SIGKILL"))
                    break
                }
            }
            #expect(seen.starts(with: [.runnerBooted, .scaled]))
            #expect(seen.contains(.callTimedOut))
        }
        #expect(PoolRegistry.shared.pool(named: "events") == nil)
    }
}
