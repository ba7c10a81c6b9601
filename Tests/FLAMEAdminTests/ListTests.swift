import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// `flamectl list`: a dead parent whose process is a zombie was shown as running (its pid
/// still existed), and `--json` must survive any path.
@Suite(.timeLimit(.minutes(1))) struct ListTests {
    @Test func aZombieParentIsStaleAndJSONCarriesAnyPath() async throws {
        // A temporary directory whose name holds a tab and a control character.
        let temporary = "/tmp/flame-list-\t\u{01}-\(UUID().uuidString.prefix(8))"
        try SocketLocation.prepareDirectory(temporary)
        defer { _ = try? FileManager.default.removeItem(atPath: temporary) }
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = nil
        environment["FLAME_ADMIN_SOCKET"] = nil
        environment["TMPDIR"] = temporary
        environment["HOME"] = temporary
        // Perl forks the demo and never reaps it: once killed, it stays a zombie.
        let script = "$| = 1; my $pid = fork(); if ($pid == 0) { exec @ARGV; die } print \"$pid\\n\"; sleep 120;"
        let parent = try StreamingCommand(
            "/usr/bin/perl", ["-e", script, TestRunner.sibling("flame-demo"), "--rate", "1", "--duration", "60"], environment: environment)
        defer { Task { await parent.stop() } }
        let pid = try #require(await parent.waitForLine { Int32($0) != nil }.flatMap { Int32($0) })
        let directory = temporary + "/flame-\(geteuid())"
        let socket = directory + "/flame-demo-\(pid).sock"
        await eventually { access(socket, F_OK) == 0 }

        let running = try await runCommand(TestRunner.sibling("flamectl"), ["list"], environment: environment)
        #expect(running.stdout.contains("running"), "\(running)")
        kill(pid, SIGKILL)
        await eventually { (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true }

        let listed = try await runCommand(TestRunner.sibling("flamectl"), ["list"], environment: environment)
        #expect(listed.status == 0 && listed.stdout.contains("stale") && !listed.stdout.contains("running"), "\(listed)")
        let json = try await runCommand(TestRunner.sibling("flamectl"), ["list", "--json"], environment: environment)
        struct Row: Decodable { var alive: Bool; var app: String; var path: String; var pid: Int32 }
        let rows = try JSONDecoder().decode([Row].self, from: Data(json.stdout.utf8))
        #expect(rows.count == 1 && rows[0].path == socket && rows[0].pid == pid && rows[0].alive == false, "\(json.stdout)")
        await parent.stop()
    }
}
