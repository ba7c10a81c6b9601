import FLAME
import FLAMEAdminProtocol
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One client's conversation: hello first, then requests, answered in the order they came
/// (each with the request's `id`). Subscriptions and log follows run as tasks until the
/// client unsubscribes or leaves: one snapshot subscription and one event subscription per
/// connection (a second replaces the first), and at most ``maximumFollows`` log follows.
final class AdminSession: Sendable {
    /// Log follows one connection may run at once.
    static let maximumFollows = 8

    /// Requests one connection may have waiting for their turn; more are answered with an
    /// error at once (a stuck request must not let a connection queue without bound).
    static let maximumQueuedRequests = 128

    private struct State {
        var greeted = false
        /// The connection is gone: a request still being answered starts no stream.
        var ended = false
        var snapshots: Task<Void, Never>?
        var events: Task<Void, Never>?
        var follows: [Int: Task<Void, Never>] = [:]
        var nextFollow = 0

        var streamCount: Int { (snapshots == nil ? 0 : 1) + (events == nil ? 0 : 1) + follows.count }
    }
    private let server: AdminServer
    let connection: AdminConnection
    private let state = Mutex(State())
    private let lines: AsyncStream<LineReader.Item>.Continuation

    init(server: AdminServer, connection: AdminConnection) {
        self.server = server
        self.connection = connection
        let (stream, lines) = AsyncStream<LineReader.Item>.makeStream(bufferingPolicy: .bufferingOldest(Self.maximumQueuedRequests))
        self.lines = lines
        // One task answers the connection's requests, one after another.
        Task { [self] in
            for await item in stream { await self.process(item) }
        }
    }

    /// Called on the connection's event loop for every line.
    func received(_ item: LineReader.Item) {
        if case .dropped = lines.yield(item), case .line(let bytes) = item {
            connection.send(
                .error(message: "too many requests waiting (\(Self.maximumQueuedRequests)); ignored"), id: AdminCodec.header(ofLine: bytes).id)
        }
    }

    private func process(_ item: LineReader.Item) async {
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
            server.greeted(connection.id)
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
        await handle(request, id: id)
    }

    /// The client left: stop its streams and its request task.
    func ended() {
        state.withLock { $0.ended = true }
        lines.finish()
        stopStreams()
    }

    private func stopStreams() {
        let streams = state.withLock { state in
            defer {
                state.snapshots = nil
                state.events = nil
                state.follows = [:]
            }
            return [state.snapshots, state.events].compactMap { $0 } + Array(state.follows.values)
        }
        for stream in streams { stream.cancel() }
        server.streamsChanged(connection.id, count: 0)
    }

    private func handle(_ request: AdminRequest, id: Int?) async {
        do {
            switch request {
            case .hello:
                break  // answered on the connection thread
            case .snapshot:
                // The encoded snapshot subscribers share, at most 100 ms old: a flood of
                // requests costs no more than a subscription.
                connection.send(line: AdminCodec.adding(id: id, to: await server.snapshotLine(maxAge: .milliseconds(100))))
            case .subscribe(let snapshots, let interval, let events):
                connection.send(.subscribed, id: id)
                if snapshots { replace(\.snapshots, with: Task { await self.streamSnapshots(every: .milliseconds(interval), id: id) }) }
                if events { replace(\.events, with: Task { await self.streamEvents(id: id) }) }
            case .unsubscribe:
                stopStreams()
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

    /// The connection's subscription of one kind becomes `task` (the one before it stops).
    private func replace(_ kind: WritableKeyPath<State, Task<Void, Never>?>, with task: Task<Void, Never>) {
        let outcome = state.withLock { state -> (previous: Task<Void, Never>?, count: Int)? in
            guard !state.ended else { return nil }
            defer { state[keyPath: kind] = task }
            return (state[keyPath: kind], state.streamCount + (state[keyPath: kind] == nil ? 1 : 0))
        }
        guard let (previous, count) = outcome else {
            task.cancel()  // the connection left while this request was being answered
            return
        }
        previous?.cancel()
        server.streamsChanged(connection.id, count: count)
    }

    /// Starts a log follow unless the connection runs as many as it may; it leaves the
    /// count when it ends.
    private func addFollow(_ body: @escaping @Sendable () async -> Void) throws(FLAMEError) {
        let count = try state.withLock { state throws(FLAMEError) in
            guard !state.ended else { throw FLAMEError(.invalidConfiguration, "the connection has ended") }
            guard state.follows.count < Self.maximumFollows else {
                throw FLAMEError(.invalidConfiguration, "at most \(Self.maximumFollows) log follows per connection")
            }
            let key = state.nextFollow
            state.nextFollow += 1
            state.follows[key] = Task {
                await body()
                self.followEnded(key)
            }
            return state.streamCount
        }
        server.streamsChanged(connection.id, count: count)
    }

    private func followEnded(_ key: Int) {
        let count = state.withLock { state -> Int? in
            guard state.follows.removeValue(forKey: key) != nil else { return nil }
            return state.streamCount
        }
        if let count { server.streamsChanged(connection.id, count: count) }
    }

    private func streamSnapshots(every interval: Duration, id: Int?) async {
        server.snapshotStreams.add(1, ordering: .relaxed)
        defer { server.snapshotStreams.subtract(1, ordering: .relaxed) }
        while !Task.isCancelled {
            // A client that is not reading gets no new snapshot built for it: it would only
            // be dropped (and counted) on its way to the full buffer.
            if connection.isBackedUp {
                connection.noteDropped()
            } else {
                connection.send(line: AdminCodec.adding(id: id, to: await server.snapshotLine(maxAge: interval / 2)))
            }
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
            connection.send(.logsEnd(dropped: Self.droppedBefore(backlog.count, asked: lines, dropped: dropped)), id: id)
            if follow { try addFollow { await self.follow(ring, from: next, id: id, exit: { nil }) { self.logLine($0) } } }
        case .runner(let runner):
            let (pool, source) = try await output(ofRunner: runner)
            let (backlog, next, dropped) = source.buffer.lines(last: lines)
            for line in backlog { connection.send(.log(logLine(line, runner: runner)), id: id) }
            if let exit = source.exit, !follow {
                connection.send(.runnerExited(runner: runner, reason: exit.message), id: id)
            }
            connection.send(.logsEnd(dropped: Self.droppedBefore(backlog.count, asked: lines, dropped: dropped)), id: id)
            guard follow else { return }
            if let exit = source.exit {
                connection.send(.runnerExited(runner: runner, reason: exit.message), id: id)
                return
            }
            let buffer = source.buffer
            try addFollow {
                await self.follow(buffer, from: next, id: id, exit: { await Self.exit(of: runner, in: pool) }) {
                    self.logLine($0, runner: runner)
                }
                if let exit = await Self.exit(of: runner, in: pool), !Task.isCancelled {
                    self.connection.send(.runnerExited(runner: runner, reason: exit.message), id: id)
                }
            }
        }
    }

    /// Why `runner` exited, nil while it runs. A runner whose kept output newer exits have
    /// pushed out is reported gone, so its follow still ends.
    private static func exit(of runner: String, in pool: Pool) async -> FLAMEError? {
        guard let source = await pool.outputSource(ofRunner: runner) else {
            return FLAMEError(.runnerExited, "runner \(runner) is gone (its output was no longer kept)")
        }
        return source.exit
    }

    /// Lines lost before the backlog, as `logs-end` reports them: only when the backlog is
    /// shorter than asked for (with `-n 1`, the lines before the one asked for were not lost).
    static func droppedBefore(_ backlog: Int, asked: Int, dropped: Int) -> Int {
        backlog < asked ? dropped : 0
    }

    /// Runner `id`'s output, live or kept after its exit, and its pool.
    private func output(ofRunner id: String) async throws(FLAMEError) -> (Pool, (buffer: LineRing<OutputLine>, exit: FLAMEError?)) {
        for pool in PoolRegistry.shared.pools {
            if let source = await pool.outputSource(ofRunner: id) { return (pool, source) }
        }
        throw FLAMEError(.unknownRunner, "no runner \(id) (nor one of the last exited runners whose output is kept)")
    }

    /// Sends what `ring` gets after `start` until cancelled, or until `exit` says the source
    /// has ended (then what is left is sent first).
    private func follow<Line: Sendable>(
        _ ring: LineRing<Line>, from start: UInt64, id: Int?, exit: @Sendable () async -> FLAMEError?,
        _ render: @escaping @Sendable (Line) -> LogLine
    ) async {
        var next = start
        while !Task.isCancelled {
            let ended = await exit() != nil
            let (lines, newNext, _) = ring.lines(after: next)
            for line in lines { connection.send(.log(render(line)), id: id) }
            next = newNext
            if ended { return }
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
