import FLAME
import FLAMEAdmin
import FLAMEAdminClient
import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// Whom the admin socket's clients trust, tried as a hostile local user would: another uid
/// (`nobody`, through setpriv) creating the socket directory first and serving a socket of
/// its own there, or serving the socket a client was pointed at. Each hostile peer is a real
/// process of that uid (Perl, which every Debian has, for a few lines of socket code).
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: runningAsRoot || everyTestMustRun, "needs root to act as another user"))
struct SocketTrustTests {
    static let other: UInt32 = 65534

    /// A socket server of uid `other` at `path`, logging every connection and line it gets
    /// to `log` and answering each line with a hello of its own.
    static func impostor(at path: String, log: String) async throws -> StreamingCommand {
        let script = """
            use IO::Socket::UNIX; my ($path, $log) = @ARGV; unlink $path;
            my $listener = IO::Socket::UNIX->new(Local => $path, Listen => 5) or die "listen $path: $!";
            chmod 0777, $path; $| = 1; print "listening\\n";
            while (my $client = $listener->accept) {
                open(my $out, '>>', $log) or die; print $out "connected\\n";
                while (my $line = <$client>) { print $out $line; print $client "{\\"type\\":\\"hello\\",\\"app\\":\\"impostor\\",\\"pid\\":4242,\\"readOnly\\":false,\\"id\\":1}\\n"; }
                close $out;
            }
            """
        let command = try StreamingCommand("/usr/bin/setpriv", asOther(["/usr/bin/perl", "-e", script, path, log]))
        try #require(await command.waitForLine { $0 == "listening" } != nil)
        return command
    }

    static func asOther(_ command: [String]) -> [String] {
        ["--reuid=\(other)", "--regid=\(other)", "--clear-groups"] + command
    }

    /// The environment of a user without XDG_RUNTIME_DIR whose temporary directory is
    /// `temporary` (shared with everyone, like /tmp) and whose home is `home`.
    static func environment(temporary: String, home: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = nil
        environment["FLAME_ADMIN_SOCKET"] = nil
        environment["TMPDIR"] = temporary
        environment["HOME"] = home
        return environment
    }

    static func freshDirectory(_ name: String, mode: mode_t) -> String {
        let path = "/tmp/flame-trust-\(name)-\(UUID().uuidString.prefix(8))"
        mkdir(path, mode)
        chmod(path, mode)
        return path
    }

    /// `/tmp/flame-<uid>` made first by another user, with a socket of theirs in it: the
    /// victim's flamectl showed the impostor's data and sent it commands, and the victim's
    /// own parent refused to start ("belongs to uid …").
    @Test func aSquattedSocketDirectoryIsRefusedAndTheParentUsesItsFallback() async throws {
        try #require(runningAsRoot, "needs root to act as another user")
        let temporary = Self.freshDirectory("tmp", mode: 0o1777)
        let home = Self.freshDirectory("home", mode: 0o700)
        defer { _ = try? FileManager.default.removeItem(atPath: temporary); _ = try? FileManager.default.removeItem(atPath: home) }
        let squatted = temporary + "/flame-\(geteuid())"
        mkdir(squatted, 0o755)
        chown(squatted, Self.other, Self.other)
        let log = squatted + "/heard.log"
        let impostor = try await Self.impostor(at: squatted + "/flame-demo-4242.sock", log: log)
        defer { Task { await impostor.stop() } }
        let environment = Self.environment(temporary: temporary, home: home)

        let status = try await runCommand(TestRunner.sibling("flamectl"), ["status"], environment: environment)
        #expect(status.status == 3, "\(status)")
        #expect(status.stderr.contains("refused \(squatted): it belongs to uid \(Self.other)"), "\(status.stderr)")
        let kill = try await runCommand(
            TestRunner.sibling("flamectl"), ["kill", "thumbnails-1", "--socket", squatted + "/flame-demo-4242.sock"], environment: environment)
        #expect(kill.status == 3, "\(kill)")
        #expect(kill.stderr.contains("refusing to use the admin socket"), "\(kill.stderr)")
        #expect(access(log, F_OK) != 0, "the impostor heard from the victim: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

        // The victim's own parent starts, in its fallback directory, and its tools find it.
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--rate", "2", "--duration", "60"], environment: environment)
        defer { Task { await demo.stop() } }
        let line = try #require(await demo.waitForLine { $0.hasPrefix("admin socket: ") })
        #expect(line.hasPrefix("admin socket: \(home)/.cache/flame-admin/"), "\(line)")
        let found = try await runCommand(TestRunner.sibling("flamectl"), ["status"], environment: environment)
        #expect(found.status == 0 && found.stdout.contains("thumbnails"), "\(found)")
        await demo.stop()
        await impostor.stop()
    }

    /// A socket in a directory that passes every check, served by a process of another uid
    /// (here root, chowning the files to the client's uid): the client refuses it before
    /// sending anything, naming the server's uid.
    @Test func aSocketServedByAnotherUidIsRefusedBeforeAnythingIsSent() async throws {
        try #require(runningAsRoot, "needs root to act as another user")
        try await withAdminPool(PoolConfiguration(name: "trust", max: 1)) { _, harness in
            chown(harness.directory, Self.other, Self.other)
            chown(harness.path, Self.other, Self.other)
            let result = try await flamectl(["status", "--socket", harness.path], asUser: Int(Self.other))
            #expect(result.status == 3, "\(result)")
            #expect(result.stderr.contains("runs as uid 0, not \(Self.other)"), "\(result.stderr)")
            #expect(!result.stderr.contains("connections from uid"), "the client sent its hello: \(result.stderr)")
        }
    }

    /// The server's side: a peer of another uid that connects anyway (the socket opened to
    /// everyone) gets a refusal and nothing else.
    @Test func peersOfAnotherUidAreRefusedByTheServer() async throws {
        try #require(runningAsRoot, "needs root to act as another user")
        try await withAdminPool(PoolConfiguration(name: "uid", max: 1)) { _, harness in
            chmod(harness.directory, 0o711)
            chmod(harness.path, 0o666)
            let script = """
                use IO::Socket::UNIX; my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
                print $s "{\\"type\\":\\"hello\\",\\"protocol\\":1}\\n{\\"type\\":\\"snapshot\\"}\\n"; print while <$s>;
                """
            let peer = try await runCommand("/usr/bin/setpriv", Self.asOther(["/usr/bin/perl", "-e", script, harness.path]))
            #expect(peer.stdout.contains("connections from uid \(Self.other) are refused"), "\(peer)")
            #expect(!peer.stdout.contains("\"pools\""), "the other uid got a snapshot: \(peer.stdout)")
            // The owner's own client refuses the opened-up directory; closed again, it gets in.
            let opened = try await flamectl(["status", "--socket", harness.path])
            #expect(opened.status == 3 && opened.stderr.contains("its mode is 711"), "\(opened)")
            chmod(harness.directory, 0o700)
            chmod(harness.path, 0o600)
            let owner = try await flamectl(["status", "--socket", harness.path])
            #expect(owner.status == 0, "\(owner)")
        }
    }
}

/// Checks that need no second user.
@Suite(.timeLimit(.minutes(1))) struct SocketPathTests {
    /// A relative FLAME_ADMIN_SOCKET gets the same directory checks (it skipped them all).
    @Test func aRelativeSocketPathGetsTheSameChecks() async throws {
        let open = SocketTrustTests.freshDirectory("open", mode: 0o755)
        let closed = SocketTrustTests.freshDirectory("closed", mode: 0o700)
        defer { _ = try? FileManager.default.removeItem(atPath: open); _ = try? FileManager.default.removeItem(atPath: closed) }
        var environment = ProcessInfo.processInfo.environment
        environment["FLAME_ADMIN_SOCKET"] = "relative.sock"
        let refused = try await runCommand(
            TestRunner.sibling("flame-demo"), ["--rate", "1", "--duration", "5"], environment: environment, directory: open, timeout: .seconds(30))
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("refusing admin socket directory \(open): its mode is 755"), "\(refused.stderr)")
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--rate", "1", "--duration", "30"], environment: environment, directory: closed)
        defer { Task { await demo.stop() } }
        #expect(await demo.waitForLine { $0.hasPrefix("admin socket: ") } == "admin socket: \(closed)/relative.sock")
        await demo.stop()
    }
}
