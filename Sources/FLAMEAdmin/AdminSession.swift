import FLAME
import FLAMEAdminProtocol
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One client's conversation: hello first, then requests, each answered on the connection
/// (with the request's `id`). Subscriptions and log follows run as tasks until the client
/// unsubscribes or leaves.
final class AdminSession: Sendable {
    private struct State {
        var greeted = false
        var streams: [Task<Void, Never>] = []
    }
    private let server: AdminServer
    private let connection: AdminConnection
    private let state = Mutex(State())

    init(server: AdminServer, connection: AdminConnection) {
        self.server = server
        self.connection = connection
    }

    /// Called on the connection's thread for every line.
    func received(_ item: LineReader.Item) {
        guard case .line(let bytes) = item else {
            connection.send(.error(message: "line longer than \(AdminCodec.maximumLineLength) bytes; ignored"))
            return
        }
        if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { return }
        let envelope: AdminEnvelope<AdminRequest>
        do {
            envelope = try AdminCodec.decode(AdminRequest.self, from: bytes)
        } catch {
            connection.send(.error(message: AdminCodec.describe(error)), id: AdminCodec.header(ofLine: bytes).id)
            return
        }
        let id = envelope.id
        let request = envelope.body
        if case .hello(let version, _) = request {
            guard version == adminProtocolVersion else {
                connection.send(.error(message: "protocol \(version) is not supported; this parent speaks \(adminProtocolVersion)"), id: id)
                return
            }
            state.withLock { $0.greeted = true }
            connection.send(
                .hello(ServerHello(app: server.configuration.app, pid: getpid(), readOnly: server.configuration.readOnly)), id: id)
            return
        }
        guard state.withLock({ $0.greeted }) else {
            connection.send(.error(message: "say hello first: {\"type\":\"hello\",\"protocol\":\(adminProtocolVersion)}"), id: id)
            return
        }
        if request.isMutating && server.configuration.readOnly {
            connection.send(.error(message: "this admin socket is read-only; \(request) refused"), id: id)
            return
        }
        Task { await self.handle(request, id: id) }
    }

    /// The client left: stop its streams.
    func ended() {
        let streams = state.withLock { state in
            defer { state.streams = [] }
            return state.streams
        }
        for stream in streams { stream.cancel() }
    }

    private func handle(_ request: AdminRequest, id: Int?) async {
        do {
            switch request {
            case .hello:
                break  // answered on the connection thread
            case .snapshot:
                connection.send(.snapshot(await snapshot()), id: id)
            case .subscribe(let snapshots, let interval, let events):
                connection.send(.subscribed, id: id)
                if snapshots { addStream { await self.streamSnapshots(every: .milliseconds(interval), id: id) } }
                if events { addStream { await self.streamEvents(id: id) } }
            case .unsubscribe:
                ended()
                connection.send(.ok(message: "unsubscribed"), id: id)
            case .scale(let name, let min, let max):
                let pool = try pool(named: name)
                try await pool.scale(min: min, max: max)
                let status = await pool.status()
                connection.send(.ok(message: "pool \(name) scaled to min \(status.min), max \(status.max)"), id: id)
            case .drainPool(let name):
                try await pool(named: name).drain()
                connection.send(.ok(message: "pool \(name) draining"), id: id)
            case .drainRunner(let runner):
                try await pool(ofRunner: runner).drain(runner: runner)
                connection.send(.ok(message: "runner \(runner) draining"), id: id)
            case .kill(let runner):
                try await pool(ofRunner: runner).kill(runner: runner, reason: "killed by an operator")
                connection.send(.ok(message: "runner \(runner) killed"), id: id)
            case .logs(let source, let lines, let follow):
                try await sendLogs(source, lines: lines, follow: follow, id: id)
            case .metrics:
                connection.send(.metrics(text: PrometheusText.render(await snapshot())), id: id)
            }
        } catch let error as FLAMEError {
            connection.send(.error(message: error.message), id: id)
        } catch {
            connection.send(.error(message: "\(error)"), id: id)
        }
    }

    private func snapshot() async -> Snapshot {
        await SnapshotBuilder.snapshot(app: server.configuration.app, pid: getpid(), startedAt: server.startedAt)
    }

    private func addStream(_ body: @escaping @Sendable () async -> Void) {
        let task = Task { await body() }
        state.withLock { $0.streams.append(task) }
    }

    private func streamSnapshots(every interval: Duration, id: Int?) async {
        while !Task.isCancelled {
            connection.send(line: AdminCodec.adding(id: id, to: await server.snapshotLine(maxAge: interval / 2)))
            try? await Task.sleep(for: interval)
        }
    }

    private func streamEvents(id: Int?) async {
        for await event in PoolEvents.shared.subscribe() {
            if Task.isCancelled { break }
            connection.send(
                .event(AdminEvent(kind: event.kind.rawValue, pool: event.pool, runner: event.runner, message: event.message, time: event.time)),
                id: id)
        }
    }

    private func pool(named name: String) throws(FLAMEError) -> Pool {
        guard let pool = PoolRegistry.shared.pool(named: name) else {
            let known = PoolRegistry.shared.pools.map(\.name).joined(separator: ", ")
            throw FLAMEError(.unknownRunner, "no pool named \(name) (pools: \(known.isEmpty ? "none" : known))")
        }
        return pool
    }

    private func pool(ofRunner runner: String) async throws(FLAMEError) -> Pool {
        for pool in PoolRegistry.shared.pools where await pool.status().runners.contains(where: { $0.id == runner }) {
            return pool
        }
        throw FLAMEError(.unknownRunner, "no runner \(runner)")
    }

    // MARK: - Logs

    private func sendLogs(_ source: LogSource, lines: Int, follow: Bool, id: Int?) async throws {
        switch source {
        case .parent:
            let ring = ParentLog.records
            let (backlog, next, dropped) = ring.lines(last: lines)
            for record in backlog { connection.send(.log(logLine(record)), id: id) }
            connection.send(.logsEnd(dropped: dropped), id: id)
            if follow { addStream { await self.follow(ring, from: next, id: id) { self.logLine($0) } } }
        case .runner(let runner):
            let buffer = try await pool(ofRunner: runner).outputBuffer(ofRunner: runner)
            guard let buffer else { throw FLAMEError(.unknownRunner, "no runner \(runner)") }
            let (backlog, next, dropped) = buffer.lines(last: lines)
            for line in backlog { connection.send(.log(logLine(line, runner: runner)), id: id) }
            connection.send(.logsEnd(dropped: dropped), id: id)
            if follow { addStream { await self.follow(buffer, from: next, id: id) { self.logLine($0, runner: runner) } } }
        }
    }

    private func follow<Line: Sendable>(
        _ ring: LineRing<Line>, from start: UInt64, id: Int?, _ render: @escaping @Sendable (Line) -> LogLine
    ) async {
        var next = start
        while !Task.isCancelled {
            let (lines, newNext, _) = ring.lines(after: next)
            for line in lines { connection.send(.log(render(line)), id: id) }
            next = newNext
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func logLine(_ record: ParentLogRecord) -> LogLine {
        LogLine(source: "parent", stream: nil, level: record.level.rawValue, line: "\(record.label): \(record.text)")
    }

    private func logLine(_ line: OutputLine, runner: String) -> LogLine {
        LogLine(source: runner, stream: line.stream.rawValue, level: Self.level(in: line.text), line: line.text)
    }

    /// The level of a line in swift-log's default format (`<time> <level> <label>: …`).
    static func level(in text: String) -> String? {
        let fields = text.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2 else { return nil }
        let candidate = String(fields[1])
        return Logger.Level(rawValue: candidate) != nil ? candidate : nil
    }
}
