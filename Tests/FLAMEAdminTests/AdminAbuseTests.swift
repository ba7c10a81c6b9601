import FLAME
import FLAMEAdmin
import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// The admin socket against hostile, slow and hung peers: connections that never say hello,
/// say hello and idle, flood requests or subscriptions, or pipeline requests.
@Suite(.timeLimit(.minutes(2))) struct AdminAbuseTests {
    static let hello = "{\"type\":\"hello\",\"protocol\":\(adminProtocolVersion)}\n"

    /// 64 connections that never said hello kept every slot: `flamectl status` answered "too
    /// many admin clients (64)".
    @Test func hellolessConnectionsCannotLockOperatorsOut() async throws {
        // 64 slots, as by default; a hello deadline longer than the test, so that only
        // displacement can free a slot.
        try await withAdminHarness(tune: { $0.helloTimeout = .seconds(120) }) { harness in
            var squatters: [RawConnection] = []
            for _ in 0..<64 { squatters.append(try RawConnection(path: harness.path)) }
            await eventually { harness.server.clientCount == 64 }  // every one holding a slot
            for _ in 0..<3 {
                let status = try await flamectl(["status", "--socket", harness.path])
                #expect(status.status == 0, "\(status)")
            }
            // The oldest silent connections made room, each told why. (A flamectl that left frees
            // its slot, unless the next one arrives first: one to three are displaced. Which ones
            // is the order they were admitted in, across event loops, not quite the connect order.)
            var told: [String] = []
            for squatter in squatters {
                if case .error(let message) = await squatter.reply(within: .milliseconds(20)) { told.append(message) }
            }
            #expect((1...3).contains(told.count), "\(told)")
            #expect(told.allSatisfy { $0.contains("had not said hello") }, "\(told)")
            #expect(harness.server.clientCount <= 64)
        }
    }

    @Test func aConnectionWithoutHelloIsClosedAfterTheHelloTimeout() async throws {
        try await withAdminHarness(tune: { $0.helloTimeout = .milliseconds(300) }) { harness in
            let silent = try RawConnection(path: harness.path)
            let started = ContinuousClock.now
            guard case .error(let message) = await silent.reply() else { Issue.record("no error line before the close"); return }
            #expect(message.contains("no hello within"), "\(message)")
            #expect(await silent.line() == nil, "closed after the error")
            _ = started
            await eventually { harness.server.clientCount == 0 }
        }
    }

    @Test func aGreetedConnectionIdleWithNothingSubscribedIsClosed() async throws {
        try await withAdminHarness(tune: { $0.idleTimeout = .milliseconds(400) }) { harness in
            let idle = try RawConnection(path: harness.path)
            await idle.write(Self.hello)
            guard case .hello = await idle.reply() else { Issue.record("no hello"); return }
            guard case .error(let message) = await idle.reply() else { Issue.record("no error line before the close"); return }
            #expect(message.contains("idle for"), "\(message)")
            // A subscriber is never idle: it streams.
            let subscriber = try RawConnection(path: harness.path)
            await subscriber.write(Self.hello + "{\"type\":\"subscribe\",\"snapshots\":false,\"intervalMs\":1000,\"events\":true}\n")
            _ = await subscriber.reply()
            try await Task.sleep(for: .milliseconds(1200))
            #expect(harness.server.clientCount == 1, "the subscriber stays")
        }
    }

    /// One connection sending thousands of `subscribe` requests ran a snapshot stream for each
    /// (the parent at half a core); now a second subscription of a kind replaces the first.
    @Test func repeatedSubscriptionsReplaceEachOther() async throws {
        try await withAdminHarness { harness in
            let client = try RawConnection(path: harness.path)
            let subscribe = "{\"type\":\"subscribe\",\"snapshots\":true,\"intervalMs\":100,\"events\":false}\n"
            await client.write(Self.hello + String(repeating: subscribe, count: 40))
            // Every subscribe is answered (in order), and the connection runs one stream.
            var subscribed = 0
            while subscribed < 40, let reply = await client.reply() {
                if case .subscribed = reply { subscribed += 1 }
            }
            #expect(subscribed == 40)
            #expect(harness.server.streamCounts == [1], "streams per connection: \(harness.server.streamCounts)")
            // And the replaced streams' tasks are gone, not merely uncounted.
            await eventually { harness.server.runningSnapshotStreams == 1 }
        }
    }

    /// Requests beyond the connection's budget are answered with one error and ignored.
    @Test func aRequestFloodIsCutToTheBudget() async throws {
        try await withAdminHarness { harness in  // 50 a second, as by default
            let client = try RawConnection(path: harness.path)
            await client.write(Self.hello + String(repeating: "{\"type\":\"metrics\"}\n", count: 300))
            // Every request gets one answer: its metrics, or the refusal (with its id), unless the
            // connection's buffer was full, which a `dropped` notice counts.
            var answered = 0
            var refusals: [String] = []
            var dropped = 0
            // (Refusals come from the connection's event loop at once, so some may arrive before
            // the hello's answer, which the session's task sends.)
            while answered + refusals.count + dropped < 300, let reply = await client.reply() {
                switch reply {
                case .metrics: answered += 1
                case .error(let message): refusals.append(message)
                case .dropped(let count): dropped += count
                default: continue
                }
            }
            #expect(answered < 150, "a burst of 100 at 50 a second, not 300: \(answered)")
            #expect(answered + refusals.count + dropped == 300, "\(answered) answered, \(refusals.count) refused, \(dropped) dropped")
            #expect(!refusals.isEmpty && refusals.allSatisfy { $0.contains("too many requests") }, "\(Set(refusals))")
        }
    }

    /// Each request used to be answered by a task of its own, so pipelined requests could be
    /// answered out of order.
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withAdminPool(PoolConfiguration(name: "order", min: 1, max: 1)) { _, harness in
            let client = try RawConnection(path: harness.path)
            var requests = Self.hello
            for id in 1...40 {
                requests += id % 2 == 0 ? "{\"type\":\"snapshot\",\"id\":\(id)}\n" : "{\"type\":\"scale\",\"pool\":\"order\",\"max\":\(id % 3 + 1),\"id\":\(id)}\n"
            }
            await client.write(requests)
            _ = await client.reply()  // hello
            var ids: [Int] = []
            while ids.count < 40, let envelope = await client.envelope() { ids.append(envelope.id ?? -1) }
            #expect(ids == Array(1...40))
        }
    }
}
