/// What a parent sends a client: one JSON object per line with a `type`.
public enum AdminReply: Sendable, Equatable {
    /// Answer to `hello`: `{"type":"hello","protocol":1,"app":"flame-demo","pid":4242,"readOnly":false}`.
    case hello(ServerHello)
    /// A snapshot: its fields at the top level beside `"type":"snapshot"`.
    case snapshot(Snapshot)
    /// `{"type":"event","kind":"runnerExited","pool":"…","runner":"…","message":"…","time":…}`.
    case event(AdminEvent)
    /// A log line: `{"type":"log","source":"thumbnails-3","stream":"stderr","level":"info","line":"…"}`.
    case log(LogLine)
    /// The backlog of a `logs` request has been sent; `dropped` lines were lost to the
    /// bounded buffer before it. Without `follow`, nothing more comes for that request.
    case logsEnd(dropped: Int)
    /// A mutating request succeeded: `{"type":"ok","message":"…"}`.
    case ok(message: String)
    /// A request could not be served: `{"type":"error","message":"…"}`.
    case error(message: String)
    /// `{"type":"subscribed"}`.
    case subscribed
    /// Prometheus text exposition: `{"type":"metrics","text":"…"}`.
    case metrics(text: String)
    /// This client read too slowly and `count` lines meant for it were dropped.
    case dropped(count: Int)
    /// The runner of a `logs` request has exited, and why: its output is complete, and a
    /// follow ends here. `{"type":"runner-exited","runner":"…","reason":"…"}`.
    case runnerExited(runner: String, reason: String)
}

public struct ServerHello: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var app: String
    public var pid: Int32
    public var readOnly: Bool

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol", app, pid, readOnly
    }

    public init(protocolVersion: Int = adminProtocolVersion, app: String, pid: Int32, readOnly: Bool) {
        self.protocolVersion = protocolVersion
        self.app = app
        self.pid = pid
        self.readOnly = readOnly
    }
}

public struct AdminEvent: Codable, Sendable, Equatable {
    /// `runnerBooted`, `runnerExited`, `bootFailed`, `scaled`, `drained`, `killed`, `callTimedOut`.
    public var kind: String
    public var pool: String
    public var runner: String?
    public var message: String
    /// Seconds since 1970.
    public var time: Double

    public init(kind: String, pool: String, runner: String?, message: String, time: Double) {
        self.kind = kind
        self.pool = pool
        self.runner = runner
        self.message = message
        self.time = time
    }
}

public struct LogLine: Codable, Sendable, Equatable {
    /// The runner id, or `parent`.
    public var source: String
    /// `stdout` or `stderr` for runners; absent for parent log records.
    public var stream: String?
    /// The swift-log level when known (`trace` … `critical`).
    public var level: String?
    public var line: String

    public init(source: String, stream: String?, level: String?, line: String) {
        self.source = source
        self.stream = stream
        self.level = level
        self.line = line
    }
}

extension AdminReply: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, message, dropped, text, count, runner, reason
    }

    /// Every `type` a reply of this protocol version can have.
    public static let types: Set<String> = [
        "hello", "snapshot", "event", "log", "logs-end", "ok", "error", "subscribed", "metrics", "dropped", "runner-exited",
    ]

    private var typeName: String {
        switch self {
        case .hello: "hello"
        case .snapshot: "snapshot"
        case .event: "event"
        case .log: "log"
        case .logsEnd: "logs-end"
        case .ok: "ok"
        case .error: "error"
        case .subscribed: "subscribed"
        case .metrics: "metrics"
        case .dropped: "dropped"
        case .runnerExited: "runner-exited"
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "hello": self = .hello(try ServerHello(from: decoder))
        case "snapshot": self = .snapshot(try Snapshot(from: decoder))
        case "event": self = .event(try AdminEvent(from: decoder))
        case "log": self = .log(try LogLine(from: decoder))
        case "logs-end": self = .logsEnd(dropped: try c.decodeIfPresent(Int.self, forKey: .dropped) ?? 0)
        case "ok": self = .ok(message: try c.decodeIfPresent(String.self, forKey: .message) ?? "")
        case "error": self = .error(message: try c.decode(String.self, forKey: .message))
        case "subscribed": self = .subscribed
        case "metrics": self = .metrics(text: try c.decode(String.self, forKey: .text))
        case "dropped": self = .dropped(count: try c.decode(Int.self, forKey: .count))
        case "runner-exited":
            self = .runnerExited(runner: try c.decode(String.self, forKey: .runner), reason: try c.decode(String.self, forKey: .reason))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.type], debugDescription: "unknown reply type \"\(type)\""))
        }
    }

    /// The body's fields and `type` share one JSON object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(typeName, forKey: .type)
        switch self {
        case .hello(let hello): try hello.encode(to: encoder)
        case .snapshot(let snapshot): try snapshot.encode(to: encoder)
        case .event(let event): try event.encode(to: encoder)
        case .log(let line): try line.encode(to: encoder)
        case .logsEnd(let dropped): try c.encode(dropped, forKey: .dropped)
        case .ok(let message), .error(let message): try c.encode(message, forKey: .message)
        case .subscribed: break
        case .metrics(let text): try c.encode(text, forKey: .text)
        case .dropped(let count):
            try c.encode(count, forKey: .count)
            try c.encode("client too slow: \(count) lines dropped", forKey: .message)
        case .runnerExited(let runner, let reason):
            try c.encode(runner, forKey: .runner)
            try c.encode(reason, forKey: .reason)
        }
    }
}
