import FLAME
import FLAMEAdmin
import FLAMEAdminClient
import Foundation
import Testing

/// Servers started and stopped in one process (tests, an app restarting its admin socket):
/// a stopped server's accept thread must never take a connection meant for the next
/// server. It did when `stop()` closed the listener while that thread was between two
/// `accept` calls: the descriptor number went to the next server's listener, the old thread
/// accepted its clients and refused them, as a stopped server, with "too many admin clients".
@Suite(.timeLimit(.minutes(1))) struct AdminServerRestartTests {
    @Test func aStoppedServerNeverTakesTheNextServersClients() async throws {
        let directory = "/tmp/flame-admin-restart-\(UUID().uuidString.prefix(8))"
        defer { rmdir(directory) }
        for round in 0..<150 {
            // (Hello deadlines past the test: a loaded machine's late hello is not what is tested.)
            let old = AdminServer(.init(app: "old", path: "\(directory)/old-\(round).sock", helloTimeout: .seconds(60)))
            try await old.start()
            // Keep the old server's accept thread busy admitting while it is stopped.
            let burst = (0..<4).map { _ in Task { try? await AdminClient.connect(path: old.path, client: "burst").close() } }
            await old.stop()
            for task in burst { await task.value }
            let next = AdminServer(.init(app: "next", path: "\(directory)/next-\(round).sock", helloTimeout: .seconds(60)))
            try await next.start()
            for _ in 0..<3 {
                do {
                    let client = try await AdminClient.connect(path: next.path, client: "tests")
                    client.close()
                } catch {
                    Issue.record("round \(round): the next server's client was refused: \(error)")
                    await next.stop()
                    return
                }
            }
            await next.stop()
        }
    }
}
