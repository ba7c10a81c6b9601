import FLAME
import FLAMEAdminProtocol
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Testing

/// The flamectl binary against a real parent (this process) with real runners.
@Suite struct FlamectlTests {
    @Test func statusPrintsATableAndTheDocumentedJSON() async throws {
        try await withAdminPool(PoolConfiguration(name: "ctl-status", min: 1, max: 2)) { pool, harness in
            _ = try await pool.call(Echo(1))
            let table = try await flamectl(["status", "--socket", harness.path])
            #expect(table.status == 0)
            #expect(table.stdout.contains("POOL") && table.stdout.contains("ctl-status") && table.stdout.contains("ctl-status-1"))
            let json = try await flamectl(["status", "--json", "--socket", harness.path])
            #expect(json.status == 0)
            let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(json.stdout.utf8))
            #expect(snapshot.pools.first { $0.name == "ctl-status" }?.calls.completed == 1)
        }
    }

    @Test func scaleDrainKillAndLogsActOnRealRunners() async throws {
        try await withAdminPool(PoolConfiguration(name: "ctl-ops", max: 4)) { pool, harness in
            let scaled = try await flamectl(["scale", "ctl-ops", "--min", "2", "--socket", harness.path])
            #expect(scaled.status == 0 && scaled.stdout.contains("min 2, max 4"), "\(scaled)")
            await eventually { await pool.status().runners.filter { $0.state == .idle }.count == 2 }
            let runners = await pool.status().runners
            #expect(runners.compactMap(\.pid).allSatisfy(processIsAlive))

            _ = try await pool.call(Shout(lines: ["from the runner"]))
            let shouter = try #require(await pool.status().runners.first { $0.completed == 1 }?.id)
            await eventually { await pool.output(ofRunner: shouter)?.lines.count == 2 }
            let logs = try await flamectl(["logs", shouter, "-n", "10", "--socket", harness.path])
            #expect(logs.status == 0 && logs.stdout.contains("from the runner"), "\(logs)")

            let killed = try await flamectl(["kill", runners[0].id, "--socket", harness.path])
            #expect(killed.status == 0, "\(killed)")
            await eventually { !processIsAlive(runners[0].pid!) }

            let drained = try await flamectl(["drain", "ctl-ops", "--socket", harness.path])
            #expect(drained.status == 0 && drained.stdout.contains("draining"), "\(drained)")
            await eventually {
                let now = await pool.status().runners
                return now.count == 2 && now.allSatisfy { $0.state == .idle && !runners.map(\.id).contains($0.id) }
            }
        }
    }

    @Test func exitCodesSayWhatWentWrong() async throws {
        try await withAdminPool(PoolConfiguration(name: "ctl-codes", max: 1)) { _, harness in
            let refused = try await flamectl(["scale", "no-such-pool", "--max", "2", "--socket", harness.path])
            #expect(refused.status == 1 && refused.stderr.contains("no pool named no-such-pool"), "\(refused)")
            let usage = try await flamectl(["scale", "ctl-codes", "--socket", harness.path])
            #expect(usage.status == 2 && usage.stderr.contains("--min, --max or both"), "\(usage)")
            let unknownFlag = try await flamectl(["status", "--bogus"])
            #expect(unknownFlag.status == 2)
            let missing = try await flamectl(["status", "--socket", "/tmp/flame-no-such-dir/x.sock"])
            #expect(missing.status == 3 && missing.stderr.contains("/tmp/flame-no-such-dir/x.sock"), "\(missing)")
            let help = try await flamectl(["--help"])
            #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS"))
        }
    }

    @Test func listFindsParentsAndEventsStream() async throws {
        try await withAdminPool(PoolConfiguration(name: "ctl-events", max: 1)) { pool, harness in
            // list reads the default directory; point XDG_RUNTIME_DIR at the harness's.
            let listed = try await runCommand(
                TestRunner.sibling("flamectl"), ["list"], environment: ["XDG_RUNTIME_DIR": "/nonexistent-\(getpid())"]
            ).stdout
            #expect(listed.contains("no flame parents in /nonexistent-\(getpid())/flame"))

            async let events = onDedicatedThread { () -> String in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: TestRunner.sibling("flamectl"))
                process.arguments = ["events", "--json", "--socket", harness.path]
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                var text = ""
                while !text.contains("\"pool\":\"ctl-events\"") {
                    let data = out.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                process.terminate()
                process.waitUntilExit()
                return text
            }
            try await Task.sleep(for: .milliseconds(500))
            _ = try await pool.call(Echo(1))
            let text = try await events
            #expect(text.contains("\"kind\":\"runnerBooted\"") && text.contains("\"pool\":\"ctl-events\""), "\(text)")
        }
    }
}
