import FLAME
public import FLAMEAdminProtocol
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The admin socket of a parent: snapshots, event and log streams, and operator commands
/// (scale, drain, kill) for every pool of the process, over newline-delimited JSON on a Unix
/// socket. Run it as a swift-service-lifecycle `Service`, or call ``start()``/``stop()``.
/// Neither blocks a thread: both await swift-nio's futures, so they are safe on Swift
/// concurrency's few cooperative threads.
///
/// The socket is 0600 in a 0700 directory owned by this user; peers of another uid are
/// refused (SO_PEERCRED). Stale sockets of dead parents in the directory are removed at start;
/// this one is removed at stop. Connections are served on swift-nio's shared event loops,
/// each bounded in slots, hello time, idleness, requests per second and buffered bytes
/// (``Configuration``). See docs/ADMIN-PROTOCOL.md and docs/SECURITY.md.
public final class AdminServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// The app's name, in the socket file name and in snapshots.
        public var app: String
        /// Defaults to ``SocketLocation/path(app:pid:)`` (honouring `FLAME_ADMIN_SOCKET`).
        public var path: String?
        /// Refuse scale, drain and kill. Defaults to false.
        public var readOnly: Bool
        /// Reply bytes one client may have waiting before further lines are dropped (and it
        /// is told how many). Defaults to 1 MiB.
        public var clientBufferBytes: Int
        /// Clients served at once. When all slots are taken a new client displaces the oldest
        /// one yet to say hello, else the longest idle one streaming nothing; defaults to 64.
        public var maximumClients: Int
        /// How long a connection may take to say hello. Defaults to 5 seconds.
        public var helloTimeout: Duration
        /// A connection streaming nothing (no subscription or log follow) and silent this long
        /// is closed. Defaults to 10 minutes.
        public var idleTimeout: Duration
        /// Requests one connection may make a second, on average (bursts of twice that);
        /// more are answered with an error and ignored. Defaults to 50.
        public var requestsPerSecond: Double

        public init(
            app: String, path: String? = nil, readOnly: Bool = false, clientBufferBytes: Int = 1 << 20, maximumClients: Int = 64,
            helloTimeout: Duration = .seconds(5), idleTimeout: Duration = .seconds(600), requestsPerSecond: Double = 50
        ) {
            self.app = app
            self.path = path
            self.readOnly = readOnly
            self.clientBufferBytes = clientBufferBytes
            self.maximumClients = maximumClients
            self.helloTimeout = helloTimeout
            self.idleTimeout = idleTimeout
            self.requestsPerSecond = requestsPerSecond
        }
    }

    public let path: String
    let configuration: Configuration
    let logger: Logger
    let startedAt = ContinuousClock.now
    private struct State {
        var listener: (any Channel)?
        var expiry: RepeatedTask?
        var starting = false
        var stopped = false
        var slots: AdminSlots<ContinuousClock.Instant>
        var connections: [UInt64: AdminConnection] = [:]
        var nextID: UInt64 = 1
    }
    private let state: Mutex<State>

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "flame.admin")) {
        self.configuration = configuration
        self.path = SocketLocation.absolute(configuration.path ?? SocketLocation.path(app: configuration.app, pid: getpid()))
        self.logger = logger
        let limits = AdminSlots<ContinuousClock.Instant>.Limits(
            maximum: configuration.maximumClients, helloTimeout: configuration.helloTimeout, idleTimeout: configuration.idleTimeout)
        self.state = Mutex(State(slots: AdminSlots(limits: limits)))
    }

    /// Binds the socket and starts accepting clients, on swift-nio's shared event loops.
    /// Calling it again does nothing.
    public func start() async throws {
        let first = state.withLock { state in
            guard state.listener == nil, !state.stopped, !state.starting else { return false }
            state.starting = true
            return true
        }
        guard first else { return }
        defer { state.withLock { $0.starting = false } }
        // The same checks whatever the path (a relative FLAME_ADMIN_SOCKET included).
        let directory = SocketLocation.directory(of: path)
        let preferred = SocketLocation.directories()[0]
        if directory != preferred, configuration.path == nil, let problem = SocketLocation.directoryProblem(preferred) {
            logger.warning(
                "admin socket directory refused; using the fallback", metadata: ["refused": "\(preferred)", "why": "\(problem)", "using": "\(directory)"])
        }
        try SocketLocation.prepareDirectory(directory)
        removeStaleSockets(in: directory)
        guard SocketLocation.address(of: path) != nil else {
            throw AdminServerError("admin socket path is too long (\(path.utf8.count) bytes): \(path)")
        }
        if access(path, F_OK) == 0 {
            // Someone listening there (a second parent given the same FLAME_ADMIN_SOCKET)
            // keeps it; a dead socket is ours to replace.
            guard !SocketLocation.isListening(at: path) else {
                throw AdminServerError("admin socket \(path) is in use by another process")
            }
            unlink(path)
        }
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .childChannelInitializer { channel in
                    let id = self.state.withLock { state in
                        defer { state.nextID += 1 }
                        return state.nextID
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(AdminConnectionHandler(server: self, id: id))
                    }
                }
                .bind(unixDomainSocketPath: path)
                .get()
        } catch {
            throw AdminServerError("cannot listen on \(path): \(error)")
        }
        guard chmod(path, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            listener.close(promise: nil)
            throw AdminServerError("cannot make \(path) private: \(reason)")
        }
        // Slots' deadlines (hellos, idle connections), checked four times a second.
        let period = TimeAmount.milliseconds(250)
        let expiry = listener.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in self.expireSlots() }
        let stoppedMeanwhile = state.withLock { state in
            guard !state.stopped else { return true }
            state.listener = listener
            state.expiry = expiry
            return false
        }
        if stoppedMeanwhile {
            // stop() ran while the socket was being bound: it found nothing to close.
            expiry.cancel()
            try? await listener.close()
            unlink(path)
            return
        }
        logger.info("admin socket listening", metadata: ["path": "\(path)"])
    }

    /// Stops accepting, disconnects every client and removes the socket file.
    public func stop() async {
        let (listener, expiry, clients) = state.withLock { state in
            state.stopped = true
            defer {
                state.listener = nil
                state.expiry = nil
                state.connections = [:]
            }
            return (state.listener, state.expiry, Array(state.connections.values))
        }
        guard let listener else { return }
        expiry?.cancel()
        try? await listener.close()
        for client in clients { client.close() }
        unlink(path)
    }

    /// Starts (unless ``start()`` was called already), serves until graceful shutdown, stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }

    private func removeStaleSockets(in directory: String) {
        for parent in SocketLocation.parents(in: directory) where !parent.isAlive {
            unlink(parent.path)
            logger.info("removed stale admin socket", metadata: ["path": "\(parent.path)"])
        }
    }

    // MARK: - Slots

    /// A connection whose peer is this user wants a slot: nil when it has one (another may
    /// have been closed for it), else why not.
    func admit(_ connection: AdminConnection) -> String? {
        let now = ContinuousClock.now
        let outcome = state.withLock { state -> (refusal: String?, evicted: (AdminConnection, String)?) in
            guard !state.stopped else { return ("the admin server is stopping", nil) }
            // Who is backed up now: a stalled streaming connection may make room.
            for (id, other) in state.connections { state.slots.backedUp(id, other.isBackedUp, now: now) }
            switch state.slots.admit(connection.id, pid: connection.peerPID, now: now) {
            case .refused(let reason):
                return (reason, nil)
            case .admitted(let evicting, let reason):
                state.connections[connection.id] = connection
                guard let evicting, let victim = state.connections.removeValue(forKey: evicting) else { return (nil, nil) }
                return (nil, (victim, reason ?? "closing"))
            }
        }
        if let (victim, reason) = outcome.evicted {
            logger.info("admin client displaced", metadata: ["why": "\(reason)"])
            victim.close(saying: "closing: \(reason)")
        }
        return outcome.refusal
    }

    func greeted(_ id: UInt64) { state.withLock { $0.slots.greeted(id, now: .now) } }
    func noteActivity(of id: UInt64) { state.withLock { $0.slots.active(id, now: .now) } }
    func streamsChanged(_ id: UInt64, count: Int) { state.withLock { $0.slots.streams(id, count: count, now: .now) } }

    func release(_ id: UInt64) {
        state.withLock { state in
            state.slots.remove(id)
            state.connections[id] = nil
        }
    }

    private func expireSlots() {
        let expired = state.withLock { state in
            state.slots.expire(now: .now).compactMap { entry in state.connections.removeValue(forKey: entry.id).map { ($0, entry.reason) } }
        }
        for (connection, reason) in expired { connection.close(saying: "closing: \(reason)") }
    }

    /// The snapshot this server would send now.
    public func snapshot() async -> Snapshot {
        await SnapshotBuilder.snapshot(app: configuration.app, pid: getpid(), startedAt: startedAt)
    }

    private let cachedSnapshot = Mutex<(line: [UInt8], builtAt: ContinuousClock.Instant)?>(nil)

    /// The encoded `snapshot` reply (no id), reused while younger than `maxAge`: subscribers
    /// ticking at the same rate share one build and one encoding.
    func snapshotLine(maxAge: Duration) async -> [UInt8] {
        let now = ContinuousClock.now
        if let cached = cachedSnapshot.withLock({ $0 }), now - cached.builtAt < maxAge { return cached.line }
        guard let line = try? AdminCodec.line(AdminReply.snapshot(await snapshot())) else { return [] }
        cachedSnapshot.withLock { $0 = (line, now) }
        return line
    }

    /// Clients connected now.
    public var clientCount: Int { state.withLock { $0.connections.count } }

    /// Snapshot subscription tasks running now, of every client.
    package var runningSnapshotStreams: Int { snapshotStreams.load(ordering: .relaxed) }
    let snapshotStreams = Atomic<Int>(0)

    /// Per connected client, the subscriptions and log follows it runs.
    package var streamCounts: [Int] { state.withLock { $0.slots.slots.values.map(\.streams) } }

    /// Per connected client, the most bytes its queued replies ever took (for tests of the
    /// `clientBufferBytes` bound).
    package var bufferedBytesHighWater: [Int] { state.withLock { $0.connections.values.map(\.bufferedBytesHighWater) } }
}

struct AdminServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
