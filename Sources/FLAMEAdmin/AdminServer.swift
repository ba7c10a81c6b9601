import FLAME
import CFLAMEShims
public import FLAMEAdminProtocol
public import Logging
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The admin socket of a parent: snapshots, event and log streams, and operator commands
/// (scale, drain, kill) for every pool of the process, over newline-delimited JSON on a Unix
/// socket. Run it as a swift-service-lifecycle `Service`, or call ``start()``/``stop()``.
///
/// The socket is 0600 in a 0700 directory owned by this user; peers of another uid are
/// refused (SO_PEERCRED). Stale sockets of dead parents in the directory are removed at start;
/// this one is removed at stop. See docs/ADMIN-PROTOCOL.md.
public final class AdminServer: Service, Sendable {
    public struct Configuration: Sendable {
        /// The app's name, in the socket file name and in snapshots.
        public var app: String
        /// Defaults to ``SocketLocation/path(app:pid:)`` (honouring `FLAME_ADMIN_SOCKET`).
        public var path: String?
        /// Refuse scale, drain and kill. Defaults to false.
        public var readOnly: Bool
        /// Bytes queued per client before lines are dropped. Defaults to 4 MiB.
        public var clientBufferBytes: Int
        /// Clients served at once; more are refused. Defaults to 64.
        public var maximumClients: Int

        public init(app: String, path: String? = nil, readOnly: Bool = false, clientBufferBytes: Int = 4 << 20, maximumClients: Int = 64) {
            self.app = app
            self.path = path
            self.readOnly = readOnly
            self.clientBufferBytes = clientBufferBytes
            self.maximumClients = maximumClients
        }
    }

    public let path: String
    let configuration: Configuration
    let logger: Logger
    let startedAt = ContinuousClock.now
    private let state = Mutex<(listener: Int32, clients: [ObjectIdentifier: AdminConnection])>((-1, [:]))

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "flame.admin")) {
        self.configuration = configuration
        self.path = SocketLocation.absolute(configuration.path ?? SocketLocation.path(app: configuration.app, pid: getpid()))
        self.logger = logger
    }

    /// Binds the socket and starts accepting clients. Calling it again does nothing.
    public func start() throws {
        guard state.withLock({ $0.listener < 0 }) else { return }
        // The same checks whatever the path (a relative FLAME_ADMIN_SOCKET included).
        let directory = SocketLocation.directory(of: path)
        let preferred = SocketLocation.directories()[0]
        if directory != preferred, configuration.path == nil, let problem = SocketLocation.directoryProblem(preferred) {
            logger.warning(
                "admin socket directory refused; using the fallback", metadata: ["refused": "\(preferred)", "why": "\(problem)", "using": "\(directory)"])
        }
        try SocketLocation.prepareDirectory(directory)
        removeStaleSockets(in: directory)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw AdminServerError("socket: \(String(cString: strerror(errno)))") }
        guard let address = SocketLocation.address(of: path) else {
            close(listener)
            throw AdminServerError("admin socket path is too long (\(path.utf8.count) bytes): \(path)")
        }
        if access(path, F_OK) == 0 {
            // Someone listening there (a second parent given the same FLAME_ADMIN_SOCKET)
            // keeps it; a dead socket is ours to replace.
            guard !SocketLocation.isListening(at: path) else {
                close(listener)
                throw AdminServerError("admin socket \(path) is in use by another process")
            }
            unlink(path)
        }
        guard address.bind(listener) == 0, chmod(path, 0o600) == 0, listen(listener, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw AdminServerError("cannot listen on \(path): \(reason)")
        }
        state.withLock { $0.listener = listener }
        startThread { self.acceptLoop(listener) }
        logger.info("admin socket listening", metadata: ["path": "\(path)"])
    }

    /// Stops accepting, disconnects every client and removes the socket file.
    public func stop() {
        let (listener, clients) = state.withLock { state in
            defer { state = (-1, [:]) }
            return (state.listener, Array(state.clients.values))
        }
        guard listener >= 0 else { return }
        // Wake the accept thread (accept fails with EINVAL) and let it close the listener:
        // closed here, its number could go to another socket (a next server's listener)
        // while that thread is between two accepts, and it would accept that socket's clients.
        shutdown(listener, Int32(SHUT_RDWR))
        for client in clients { client.close() }
        unlink(path)
    }

    /// Starts (unless ``start()`` was called already), serves until graceful shutdown, stops.
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        stop()
    }

    private func removeStaleSockets(in directory: String) {
        for parent in SocketLocation.parents(in: directory) where !parent.isAlive {
            unlink(parent.path)
            logger.info("removed stale admin socket", metadata: ["path": "\(parent.path)"])
        }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = flame_accept_cloexec(listener)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if state.withLock({ $0.listener }) < 0 {
                    close(listener)  // stop() shut it down: only this thread still uses its number
                    return
                }
                usleep(10_000)  // out of descriptors or memory: try again shortly
                continue
            }
            admit(client)
        }
    }

    private func admit(_ fd: Int32) {
        var uid = uid_t.max
        var pid = pid_t(0)
        let known = flame_peer_credentials(fd, &uid, &pid) == 0
        guard known, uid == geteuid() else {
            refuse(fd, "connections from uid \(known ? String(uid) : "?") are refused; this admin socket serves uid \(geteuid()) only")
            logger.warning("refused admin client of another uid", metadata: ["uid": "\(uid)", "pid": "\(pid)"])
            return
        }
        let connection = AdminConnection(fd: fd, bufferLimit: configuration.clientBufferBytes)
        let key = ObjectIdentifier(connection)
        let admitted = state.withLock { state -> Bool in
            guard state.listener >= 0, state.clients.count < configuration.maximumClients else { return false }
            state.clients[key] = connection
            return true
        }
        guard admitted else {
            let stopped = state.withLock { $0.listener < 0 }
            refuse(fd, stopped ? "the admin server is stopping" : "too many admin clients (\(configuration.maximumClients))")
            return
        }
        let session = AdminSession(server: self, connection: connection)
        startThread {
            connection.serve { session.received($0) }
            session.ended()
            _ = self.state.withLock { $0.clients.removeValue(forKey: key) }
        }
    }

    private func refuse(_ fd: Int32, _ message: String) {
        if let line = try? AdminCodec.line(AdminReply.error(message: message)) {
            _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        close(fd)
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
    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// Per connected client, the most bytes its queued replies ever took (for tests of the
    /// `clientBufferBytes` bound).
    var bufferedBytesHighWater: [Int] { state.withLock { $0.clients.values.map(\.bufferedBytesHighWater) } }
}

struct AdminServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
