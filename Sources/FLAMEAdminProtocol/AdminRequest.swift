/// The admin protocol's version; a `hello` with another version is refused.
public let adminProtocolVersion = 1

/// What a client asks of a parent. One JSON object per line with a `type`; an optional `id`
/// is echoed on the replies (see ``AdminEnvelope``).
public enum AdminRequest: Sendable, Equatable {
    /// First line of a session: `{"type":"hello","protocol":1,"client":"flamectl"}`.
    case hello(protocolVersion: Int, client: String?)
    /// One snapshot: `{"type":"snapshot"}`.
    case snapshot
    /// Snapshots every `intervalMs` (≥ 100) and/or events:
    /// `{"type":"subscribe","snapshots":true,"intervalMs":1000,"events":true}`.
    case subscribe(snapshots: Bool, intervalMilliseconds: Int, events: Bool)
    /// Stops this connection's subscriptions and log follows.
    case unsubscribe
    /// `{"type":"scale","pool":"thumbnails","min":1,"max":4}` (either or both).
    case scale(pool: String, min: Int?, max: Int?)
    /// `{"type":"drain","pool":"thumbnails"}`.
    case drainPool(String)
    /// `{"type":"drain","runner":"thumbnails-3"}`.
    case drainRunner(String)
    /// `{"type":"kill","runner":"thumbnails-3"}` (SIGKILL).
    case kill(runner: String)
    /// The last `lines` lines, then (with `follow`) new ones:
    /// `{"type":"logs","runner":"thumbnails-3","lines":50,"follow":true}`, or `"parent":true`
    /// for the parent's own log.
    case logs(source: LogSource, lines: Int, follow: Bool)
    /// Prometheus text exposition of the snapshot's figures: `{"type":"metrics"}`.
    case metrics

    /// Whether the request changes anything (refused in read-only mode).
    public var isMutating: Bool {
        switch self {
        case .scale, .drainPool, .drainRunner, .kill: true
        default: false
        }
    }
}

/// Whose log lines.
public enum LogSource: Sendable, Equatable, Hashable {
    case runner(String)
    case parent
}

extension AdminRequest: Codable {
    private enum CodingKeys: String, CodingKey {
        case type, protocolVersion = "protocol", client, snapshots, intervalMs, events, pool, runner, min, max, lines, follow, parent
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        func invalid(_ message: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: [CodingKeys.type], debugDescription: message))
        }
        switch type {
        case "hello":
            self = .hello(protocolVersion: try c.decode(Int.self, forKey: .protocolVersion), client: try c.decodeIfPresent(String.self, forKey: .client))
        case "snapshot":
            self = .snapshot
        case "subscribe":
            let snapshots = try c.decodeIfPresent(Bool.self, forKey: .snapshots) ?? true
            let events = try c.decodeIfPresent(Bool.self, forKey: .events) ?? false
            let interval = try c.decodeIfPresent(Int.self, forKey: .intervalMs) ?? 1000
            guard interval >= 100 else { throw invalid("intervalMs must be at least 100, got \(interval)") }
            guard snapshots || events else { throw invalid("subscribe needs snapshots or events") }
            self = .subscribe(snapshots: snapshots, intervalMilliseconds: interval, events: events)
        case "unsubscribe":
            self = .unsubscribe
        case "scale":
            let min = try c.decodeIfPresent(Int.self, forKey: .min)
            let max = try c.decodeIfPresent(Int.self, forKey: .max)
            guard min != nil || max != nil else { throw invalid("scale needs min, max or both") }
            self = .scale(pool: try c.decode(String.self, forKey: .pool), min: min, max: max)
        case "drain":
            if let runner = try c.decodeIfPresent(String.self, forKey: .runner) {
                self = .drainRunner(runner)
            } else if let pool = try c.decodeIfPresent(String.self, forKey: .pool) {
                self = .drainPool(pool)
            } else {
                throw invalid("drain needs pool or runner")
            }
        case "kill":
            self = .kill(runner: try c.decode(String.self, forKey: .runner))
        case "logs":
            let lines = try c.decodeIfPresent(Int.self, forKey: .lines) ?? 100
            guard lines >= 0 else { throw invalid("lines must not be negative") }
            let follow = try c.decodeIfPresent(Bool.self, forKey: .follow) ?? false
            if try c.decodeIfPresent(Bool.self, forKey: .parent) == true {
                self = .logs(source: .parent, lines: lines, follow: follow)
            } else {
                self = .logs(source: .runner(try c.decode(String.self, forKey: .runner)), lines: lines, follow: follow)
            }
        case "metrics":
            self = .metrics
        default:
            throw invalid("unknown request type \"\(type)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .hello(let version, let client):
            try c.encode("hello", forKey: .type)
            try c.encode(version, forKey: .protocolVersion)
            try c.encodeIfPresent(client, forKey: .client)
        case .snapshot:
            try c.encode("snapshot", forKey: .type)
        case .subscribe(let snapshots, let interval, let events):
            try c.encode("subscribe", forKey: .type)
            try c.encode(snapshots, forKey: .snapshots)
            try c.encode(interval, forKey: .intervalMs)
            try c.encode(events, forKey: .events)
        case .unsubscribe:
            try c.encode("unsubscribe", forKey: .type)
        case .scale(let pool, let min, let max):
            try c.encode("scale", forKey: .type)
            try c.encode(pool, forKey: .pool)
            try c.encodeIfPresent(min, forKey: .min)
            try c.encodeIfPresent(max, forKey: .max)
        case .drainPool(let pool):
            try c.encode("drain", forKey: .type)
            try c.encode(pool, forKey: .pool)
        case .drainRunner(let runner):
            try c.encode("drain", forKey: .type)
            try c.encode(runner, forKey: .runner)
        case .kill(let runner):
            try c.encode("kill", forKey: .type)
            try c.encode(runner, forKey: .runner)
        case .logs(let source, let lines, let follow):
            try c.encode("logs", forKey: .type)
            switch source {
            case .runner(let id): try c.encode(id, forKey: .runner)
            case .parent: try c.encode(true, forKey: .parent)
            }
            try c.encode(lines, forKey: .lines)
            try c.encode(follow, forKey: .follow)
        case .metrics:
            try c.encode("metrics", forKey: .type)
        }
    }
}
