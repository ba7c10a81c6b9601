import FLAME
import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Testing

/// A stand-in for a parent's admin socket that answers each request line with whatever
/// `answer` returns: for clients facing a parent that misbehaves.
final class FakeParent: Sendable {
    let directory: String
    var path: String { directory + "/fake.sock" }
    private let listener: Int32

    /// `answer` gets each request's id and type and returns the reply lines (without newlines).
    init(answer: @escaping @Sendable (_ id: Int?, _ type: String) -> [String]) throws {
        directory = "/tmp/flame-fake-parent-\(UUID().uuidString.prefix(8))"
        try SocketLocation.prepareDirectory(directory)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        guard SocketLocation.address(of: directory + "/fake.sock")?.bind(listener) == 0, listen(listener, 4) == 0 else {
            throw POSIXError(.EADDRINUSE)
        }
        startThread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                startThread { Self.serve(client, answer) }
            }
        }
    }

    private static func serve(_ fd: Int32, _ answer: @Sendable (Int?, String) -> [String]) {
        defer { close(fd) }
        var reader = LineReader(maximumLength: 1 << 20)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            for case .line(let line) in reader.feed(buffer[..<count]) {
                let request = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
                for reply in answer(request["id"] as? Int, request["type"] as? String ?? "") {
                    let bytes = Array((reply + "\n").utf8)
                    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
            }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
        rmdir(directory)
    }

    /// A correct hello reply for request `id`.
    static func hello(_ id: Int?) -> String {
        "{\"id\":\(id ?? 0),\"type\":\"hello\",\"protocol\":1,\"app\":\"fake\",\"pid\":\(getpid()),\"readOnly\":false}"
    }
}

@Suite(.timeLimit(.minutes(1))) struct MisbehavingParentTests {
    /// A reply that is not JSON (here an invalid escape in a field the client does not even
    /// read) is a broken parent: flamectl says so and exits 3, rather than show its data.
    @Test func flamectlRefusesAReplyThatIsNotJSON() async throws {
        let parent = try FakeParent { id, type in
            switch type {
            case "hello": [FakeParent.hello(id)]
            default: ["{\"id\":\(id ?? 0),\"type\":\"snapshot\",\"protocol\":1,\"app\":\"fake\",\"pid\":1,\"uptimeSeconds\":1,\"pools\":[],\"junk\":\"\\q\"}"]
            }
        }
        defer { parent.stop() }
        let status = try await flamectl(["status", "--json", "--socket", parent.path])
        #expect(status.status == 3, "\(status)")
        #expect(status.stderr.contains("malformed JSON") && status.stdout.isEmpty, "\(status)")
    }

    /// JSON the client cannot read as a reply (here a `type` from a newer parent) fails the
    /// request it answers, with the reason, instead of leaving flamectl waiting forever.
    @Test func flamectlFailsARequestWhoseReplyItCannotRead() async throws {
        let parent = try FakeParent { id, type in
            type == "hello" ? [FakeParent.hello(id)] : ["{\"id\":\(id ?? 0),\"type\":\"hologram\"}"]
        }
        defer { parent.stop() }
        let status = try await flamectl(["status", "--socket", parent.path])
        #expect(status.status == 1, "\(status)")
        #expect(status.stderr.contains("cannot read") && status.stderr.contains("unknown reply type \"hologram\""), "\(status)")
    }

    /// On a stream, a line of a kind the client does not know (a newer parent's) is skipped:
    /// the stream goes on with what follows.
    @Test func aStreamSkipsALineItCannotReadAndGoesOn() async throws {
        let parent = try FakeParent { id, type in
            switch type {
            case "hello": [FakeParent.hello(id)]
            case "subscribe":
                [
                    "{\"id\":\(id ?? 0),\"type\":\"subscribed\"}", "{\"id\":\(id ?? 0),\"type\":\"hologram\"}",
                    "{\"id\":\(id ?? 0),\"type\":\"event\",\"kind\":\"scaled\",\"pool\":\"p\",\"message\":\"after the hologram\",\"time\":1}",
                ]
            default: []
            }
        }
        defer { parent.stop() }
        let events = try StreamingCommand(TestRunner.sibling("flamectl"), ["events", "--json", "--socket", parent.path])
        await events.waitForLine { $0.contains("after the hologram") }
        await events.stop()
    }

    /// A stream ends, with the reason, on a line of a type it knows but cannot read: here
    /// the end of a log backlog whose count is not a number. (Skipping it would leave
    /// `flamectl logs` waiting forever.)
    @Test func aStreamEndsOnAKnownReplyItCannotRead() async throws {
        let parent = try FakeParent { id, type in
            switch type {
            case "hello": [FakeParent.hello(id)]
            case "logs":
                [
                    "{\"id\":\(id ?? 0),\"type\":\"log\",\"source\":\"p-1\",\"stream\":\"stdout\",\"line\":\"first\"}",
                    "{\"id\":\(id ?? 0),\"type\":\"logs-end\",\"dropped\":\"many\"}",
                ]
            default: []
            }
        }
        defer { parent.stop() }
        let logs = try await flamectl(["logs", "p-1", "--socket", parent.path])
        #expect(logs.status == 1 && logs.stdout.contains("first") && logs.stderr.contains("cannot read"), "\(logs)")
    }

    /// Every reply this client can decode has a type in ``AdminReply/types`` (the list a
    /// stream uses to tell a newer parent's kind of line from a broken one).
    @Test func everyReplyTypeIsListed() throws {
        let replies: [AdminReply] = [
            .hello(ServerHello(app: "a", pid: 1, readOnly: false)), .snapshot(Snapshot(app: "a", pid: 1, uptimeSeconds: 0, pools: [])),
            .event(AdminEvent(kind: "scaled", pool: "p", runner: nil, message: "m", time: 0)),
            .log(LogLine(source: "p-1", stream: "stdout", level: nil, line: "l")), .logsEnd(dropped: 0), .ok(message: ""),
            .error(message: "e"), .subscribed, .metrics(text: ""), .dropped(count: 1), .runnerExited(runner: "p-1", reason: "r"),
        ]
        for reply in replies {
            let type = try #require(AdminCodec.header(ofLine: try AdminCodec.line(reply).dropLast()).type)
            #expect(AdminReply.types.contains(type), "\(type)")
        }
        #expect(Set(try replies.map { try #require(AdminCodec.header(ofLine: try AdminCodec.line($0).dropLast()).type) }) == AdminReply.types)
    }
}
