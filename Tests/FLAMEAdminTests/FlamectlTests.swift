import FLAME
import FLAMEAdminProtocol
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Testing

/// The flamectl binary against a real parent (this process) with real runners.
@Suite(.timeLimit(.minutes(1))) struct FlamectlTests {
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
            // The pool's one rule for bounds answers, as it does the API and flame-top.
            let huge = try await flamectl(["scale", "ctl-codes", "--max", "1000000000000", "--socket", harness.path])
            #expect(huge.status == 1 && huge.stderr.contains("above the pool's runner limit (4096"), "\(huge)")
            let belowMin = try await flamectl(["scale", "ctl-codes", "--min", "3", "--max", "2", "--socket", harness.path])
            #expect(belowMin.status == 1 && belowMin.stderr.contains("min (3) must not exceed max (2)"), "\(belowMin)")
            let usage = try await flamectl(["scale", "ctl-codes", "--socket", harness.path])
            #expect(usage.status == 2 && usage.stderr.contains("--min, --max or both"), "\(usage)")
            let unknownFlag = try await flamectl(["status", "--bogus"])
            #expect(unknownFlag.status == 2)
            let missing = try await flamectl(["status", "--socket", "/tmp/flame-no-such-dir/x.sock"])
            #expect(missing.status == 3 && missing.stderr.contains("/tmp/flame-no-such-dir/x.sock"), "\(missing)")
            let help = try await flamectl(["--help"])
            #expect(help.status == 0 && help.stdout.contains("SUBCOMMANDS"))
            // Reported: `flamectl` alone exited 0; `--min -1` said "Missing value"; no --version.
            let alone = try await flamectl([])
            #expect(alone.status == 2 && alone.stderr.contains("name a command"), "\(alone)")
            let negative = try await flamectl(["scale", "ctl-codes", "--min", "-1", "--socket", harness.path])
            #expect(negative.status == 1 && negative.stderr.contains("min must be 0 or more, got -1"), "\(negative)")
            let version = try await flamectl(["--version"])
            #expect(version.status == 0 && !version.stdout.isEmpty, "\(version)")
        }
    }

    @Test func listFindsParentsInTheSocketDirectory() async throws {
        let empty = try await runCommand(
            TestRunner.sibling("flamectl"), ["list"], environment: ["XDG_RUNTIME_DIR": "/nonexistent-\(getpid())"])
        #expect(empty.status == 0 && empty.stdout.contains("no flame parents in /nonexistent-\(getpid())/flame"), "\(empty)")

        // list reads the default directory: $XDG_RUNTIME_DIR/flame, where the harness listens.
        let runtime = "/tmp/flame-admin-xdg-\(UUID().uuidString.prefix(8))"
        mkdir(runtime, 0o700)
        defer { rmdir(runtime) }
        try await withAdminPool(PoolConfiguration(name: "ctl-list", max: 1), runtimeDirectory: runtime) { _, harness in
            // Beside it, the socket file of a parent that has exited: listed as stale.
            let deadPid = try deadProcessID()
            let stale = harness.directory + "/ghost-\(deadPid).sock"
            #expect(FileManager.default.createFile(atPath: stale, contents: nil))
            defer { unlink(stale) }
            let environment = ["XDG_RUNTIME_DIR": runtime]

            let table = try await runCommand(TestRunner.sibling("flamectl"), ["list"], environment: environment)
            #expect(table.status == 0, "\(table)")
            let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.first == ["APP", "PID", "STATE", "SOCKET"], "\(table.stdout)")
            #expect(rows.contains(["tests", "\(getpid())", "running", harness.path]), "\(table.stdout)")
            #expect(rows.contains(["ghost", "\(deadPid)", "stale", stale]), "\(table.stdout)")

            let json = try await runCommand(TestRunner.sibling("flamectl"), ["list", "--json"], environment: environment)
            #expect(json.status == 0, "\(json)")
            let parents = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            let me = try #require(parents.first { $0["pid"] as? Int == Int(getpid()) }, "\(json.stdout)")
            #expect(me["app"] as? String == "tests" && me["path"] as? String == harness.path && me["alive"] as? Bool == true)
            let ghost = try #require(parents.first { $0["pid"] as? Int == Int(deadPid) }, "\(json.stdout)")
            #expect(ghost["alive"] as? Bool == false)
            #expect(parents.count == 2)
        }
    }

    /// A pid no process can have: one past the kernel's `pid_max`.
    private func deadProcessID() throws -> Int32 {
        let text = try String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)
        return try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))) + 1
    }

    @Test func eventsStreamWhatThePoolDoes() async throws {
        try await withAdminPool(PoolConfiguration(name: "ctl-events", max: 1)) { pool, harness in
            let events = try StreamingCommand(TestRunner.sibling("flamectl"), ["events", "--json", "--socket", harness.path])
            // Events are the whole process's (other tests' pools have theirs too), and
            // flamectl's subscription starts at a moment the test cannot see: boot and drain
            // runners until one boot of this pool is seen (or 15 s pass, failing the test).
            let line = try await events.waitForLine {
                _ = try await pool.call(Echo(1))
                await pool.drain()
                await eventually { await pool.status().runners.isEmpty }
            } where: { $0.contains("\"kind\":\"runnerBooted\"") && $0.contains("\"pool\":\"ctl-events\"") }
            await events.stop()
            let event = try JSONSerialization.jsonObject(with: Data((line ?? "").utf8)) as? [String: Any]
            #expect((event?["runner"] as? String)?.hasPrefix("ctl-events-") == true && (event?["message"] as? String)?.contains("booted") == true, "\(events.lines)")
        }
    }
}
