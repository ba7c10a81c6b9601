import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// A parent's threads do not grow with its runners: every runner connection, output pipe and
/// exit is served by the same few threads (event loops, one reaper, one spawner).
@Suite(.timeLimit(.minutes(2))) struct ThreadCountTests {
    @Test func flameDemoScaledFrom2To40RunnersAddsAtMostAHandfulOfThreads() async throws {
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--rate", "5", "--duration", "90"])
        defer { Task { await demo.stop() } }
        let line = try #require(await demo.waitForLine { $0.hasPrefix("admin socket: ") })
        let socket = String(line.dropFirst("admin socket: ".count))
        func flamectl(_ arguments: [String]) async throws -> CommandResult {
            try await runCommand(TestRunner.sibling("flamectl"), arguments + ["--socket", socket])
        }
        func runners() async throws -> Int {
            let status = try await flamectl(["status", "--json"])
            let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(status.stdout.utf8))
            return snapshot.pools.reduce(0) { $0 + $1.runners.filter { $0.state != "booting" }.count }
        }
        func threads() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(demo.processIdentifier)/task").count) ?? -1
        }
        // 2 runners: reports' min 1 and thumbnails held at 1.
        #expect(try await flamectl(["scale", "thumbnails", "--min", "1", "--max", "1"]).status == 0)
        #expect(try await eventually(within: .seconds(20)) { try await runners() == 2 })
        let before = threads()
        // Up in steps of ten, so the boots do not starve the tests running beside this one.
        for total in [10, 20, 30, 40] {
            #expect(try await flamectl(["scale", "thumbnails", "--min", "\(total - 1)", "--max", "\(total - 1)"]).status == 0)
            #expect(try await eventually(within: .seconds(30)) { try await runners() == total })
        }
        let after = threads()
        #expect(before > 0)
        #expect(after - before <= 4, "threads \(before) with 2 runners, \(after) with 40")
    }
}
