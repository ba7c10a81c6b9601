import FLAME
import FLAMEAdminProtocol
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Testing

/// The output of a runner that died, the one an operator most needs: `flamectl logs R -f` on
/// a runner that was then killed never ended, and afterwards `flamectl logs R` said "no
/// runner R".
@Suite(.timeLimit(.minutes(1))) struct ExitedRunnerLogsTests {
    @Test func aFollowEndsWithTheExitAndTheOutputStaysReadable() async throws {
        try await withAdminPool(PoolConfiguration(name: "crash-logs", min: 1, max: 1)) { pool, harness in
            _ = try await pool.call(Shout(lines: ["last words"]))
            let runner = try #require(await pool.status().runners.first)
            await eventually { await pool.output(ofRunner: runner.id)?.lines.count == 2 }
            let follow = try StreamingCommand(TestRunner.sibling("flamectl"), ["logs", runner.id, "-f", "--socket", harness.path])
            try #require(await follow.waitForLine { $0 == "last words" } != nil)
            kill(runner.pid!, SIGKILL)
            #expect(await follow.waitForExit(within: .seconds(10)), "the follow of a killed runner never ended")

            let after = try await flamectl(["logs", runner.id, "--socket", harness.path])
            #expect(after.status == 0, "\(after)")
            #expect(after.stdout.contains("last words"), "\(after)")
            #expect(after.stderr.contains("[\(runner.id) exited: ") && after.stderr.contains("SIGKILL"), "\(after.stderr)")
            // The snapshot lists it among the pool's exited runners (flame-top shows them).
            let status = try await flamectl(["status", "--json", "--socket", harness.path])
            let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(status.stdout.utf8))
            let exited = snapshot.pools.first { $0.name == "crash-logs" }?.exited ?? []
            #expect(exited.contains { $0.id == runner.id && $0.reason.contains("SIGKILL") }, "\(exited)")
        }
    }

    @Test func followingAnAlreadyExitedRunnerPrintsItsOutputAndEnds() async throws {
        try await withAdminPool(PoolConfiguration(name: "gone-logs", min: 1, max: 1)) { pool, harness in
            _ = try await pool.call(Shout(lines: ["before the end"]))
            let runner = try #require(await pool.status().runners.first)
            kill(runner.pid!, SIGKILL)
            await eventually { await pool.status().runners.contains { $0.id == runner.id } == false }
            let result = try await flamectl(["logs", runner.id, "-f", "--socket", harness.path])
            #expect(result.status == 0 && result.stdout.contains("before the end"), "\(result)")
            #expect(result.stderr.contains("exited: "), "\(result.stderr)")
        }
    }

    /// `-n 1` led with "[1449 older lines were dropped]": lines before the one asked for are
    /// not lost, they were not asked for.
    @Test func aShortBacklogDoesNotClaimLostLines() async throws {
        var configuration = PoolConfiguration(name: "short-logs", min: 1, max: 1)
        configuration.outputLinesPerRunner = 10
        try await withAdminPool(configuration) { pool, harness in
            _ = try await pool.call(Shout(lines: (1...20).map { "line \($0)" }))
            let runner = try #require(await pool.status().runners.first)
            await eventually { await pool.output(ofRunner: runner.id)?.dropped ?? 0 > 0 }
            let one = try await flamectl(["logs", runner.id, "-n", "1", "--socket", harness.path])
            // The newest line: stdout's or stderr's, whichever pipe the parent read last.
            #expect(one.status == 0 && one.stdout.split(separator: "\n").count == 1 && one.stdout.hasSuffix("line 20\n"), "\(one)")
            #expect(!one.stderr.contains("dropped"), "\(one.stderr)")
            let all = try await flamectl(["logs", runner.id, "-n", "100", "--socket", harness.path])
            #expect(all.stderr.contains("older lines were dropped"), "asked for more than is kept: \(all.stderr)")
        }
    }
}
