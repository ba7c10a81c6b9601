import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// A parent that is alive but does not answer (`kill -STOP`): `flamectl status` hung forever.
@Suite(.timeLimit(.minutes(2))) struct HungParentTests {
    @Test func everyFlamectlCommandGivesUpOnAStoppedParentAndExits3() async throws {
        let directory = "/tmp/flame-hung-\(UUID().uuidString.prefix(8))"
        try SocketLocation.prepareDirectory(directory)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["FLAME_ADMIN_SOCKET"] = directory + "/demo.sock"
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--rate", "2", "--duration", "60"], environment: environment)
        defer { Task { await demo.stop() } }
        try #require(await demo.waitForLine { $0.hasPrefix("admin socket: ") } != nil)
        let answered = try await flamectl(["status", "--socket", directory + "/demo.sock"])
        #expect(answered.status == 0, "\(answered)")

        kill(demo.processIdentifier, SIGSTOP)
        defer { kill(demo.processIdentifier, SIGCONT) }
        for command in [["status"], ["scale", "thumbnails", "--max", "3"], ["logs", "--parent", "-f"], ["events"]] {
            let started = ContinuousClock.now
            let result = try await flamectl(command + ["--timeout", "800ms", "--socket", directory + "/demo.sock"])
            let took = ContinuousClock.now - started
            #expect(result.status == 3, "\(command): \(result)")
            #expect(result.stderr.contains("did not answer within 0.8 seconds"), "\(command): \(result.stderr)")
            #expect(took < .seconds(10), "\(command) took \(took)")
        }
        kill(demo.processIdentifier, SIGCONT)
        let again = try await flamectl(["status", "--socket", directory + "/demo.sock"])
        #expect(again.status == 0, "answers again once continued: \(again)")
        await demo.stop()
    }

    @Test func aBadTimeoutIsAUsageError() async throws {
        let result = try await flamectl(["status", "--timeout", "soon"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--timeout must be a duration"), "\(result.stderr)")
    }
}
