import CFLAMEShims
public import FLAMEAdminProtocol
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one client of the admin protocol, used by `flamectl` and `flame-top`, on swift-nio's
/// shared event loops.
///
/// Requests carry an id; replies are routed back by it, so one connection can hold a
/// snapshot subscription and ask for a scale at the same time.
public final class AdminClient: Sendable {
    public let path: String
    private let channel: any Channel
    private let router: ReplyRouter
    private let hello = Mutex<ServerHello?>(nil)

    /// The parent's answer to hello: app, pid, read-only.
    public var server: ServerHello? { hello.withLock { $0 } }

    private init(path: String, channel: any Channel, router: ReplyRouter) {
        self.path = path
        self.channel = channel
        self.router = router
    }

    /// Connects to the socket at `path` and says hello, after checking that the socket, its
    /// directory and the process serving it are this user's (another user's socket where
    /// ours should be would get our commands and feed us its data).
    /// With `timeout`, connecting and the hello must be done within it (else
    /// ``AdminClientError/timedOut(path:after:)``); later requests get ``deadline(after:)``.
    public static func connect(path: String, client name: String, timeout: Duration? = nil) async throws(AdminClientError) -> AdminClient {
        if access(path, F_OK) == 0, let problem = SocketLocation.socketProblem(path) {
            throw .untrusted(path: path, reason: problem)
        }
        guard SocketLocation.address(of: path) != nil else { throw .cannotConnect(path: path, reason: "path too long") }
        let router = ReplyRouter()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ReplyLineHandler(router: router)) }
            }
        // A stopped parent's full backlog would hold the connect forever.
        if let timeout { bootstrap = bootstrap.connectTimeout(max(.nanoseconds(1), TimeAmount(timeout))) }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
        } catch {
            if let timeout, isConnectTimeout(error) { throw .timedOut(path: path, after: timeout) }
            throw .cannotConnect(path: path, reason: describe(error))
        }
        // Who serves it, before a byte is sent.
        // A task on the channel's loop runs after the connect's own handling, in which
        // channelActive read the peer's credentials.
        try? await channel.eventLoop.submit {}.get()
        let peer = router.peer
        guard let peer, peer.uid == geteuid() else {
            channel.close(promise: nil)
            let uid = peer.map { String($0.uid) } ?? "?"
            throw .untrusted(path: path, reason: "the process serving it (pid \(peer.map { String($0.pid) } ?? "?")) runs as uid \(uid), not \(geteuid())")
        }
        let client = AdminClient(path: path, channel: channel, router: router)
        let watchdog = timeout.map { client.deadline(after: $0) }
        defer { watchdog?.cancel() }
        do {
            let reply = try await client.request(.hello(protocolVersion: adminProtocolVersion, client: name))
            guard case .hello(let hello) = reply else { throw AdminClientError.refused("unexpected reply to hello: \(reply)") }
            client.hello.withLock { $0 = hello }
            return client
        } catch let error as AdminClientError {
            client.close()
            throw error
        } catch {
            client.close()
            throw .disconnected("\(error)")
        }
    }

    /// Sends `request` and returns its (first) reply; an `error` reply throws ``AdminClientError/refused(_:)``.
    public func request(_ request: AdminRequest) async throws -> AdminReply {
        let reply: AdminReply = try await withCheckedThrowingContinuation { continuation in
            guard let id = router.register(.once(continuation)) else { return }
            send(request, id: id)
        }
        if case .error(let message) = reply { throw AdminClientError.refused(message) }
        return reply
    }

    /// Sends `request` and streams every reply to it (subscriptions, log follows) until the
    /// connection ends or the stream is dropped. A `logs` request without `follow` finishes
    /// after its backlog (`logsEnd`), a follow when its runner has exited (`runnerExited`);
    /// an `error` reply finishes the stream by throwing.
    public func stream(_ request: AdminRequest) -> AsyncThrowingStream<AdminReply, any Error> {
        let (stream, continuation) = AsyncThrowingStream<AdminReply, any Error>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        var endsAtLogsEnd = false
        if case .logs(_, _, follow: false) = request { endsAtLogsEnd = true }
        if let id = router.register(.stream(continuation, endsAtLogsEnd: endsAtLogsEnd)) {
            let router = self.router
            continuation.onTermination = { _ in router.forget(id) }
            send(request, id: id)
        }
        return stream
    }

    /// Closes the connection; pending requests fail.
    public func close() {
        channel.close(promise: nil)
    }

    /// Ends the connection with ``AdminClientError/timedOut(path:after:)`` unless the returned
    /// task is cancelled first: what waits fails with it (a one-shot request, or a stream that
    /// has not started flowing).
    public func deadline(after timeout: Duration) -> Task<Void, Never> {
        let router = self.router
        let channel = self.channel
        let path = self.path
        return Task {
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            router.end(with: .timedOut(path: path, after: timeout))
            channel.close(promise: nil)
        }
    }

    private func send(_ request: AdminRequest, id: Int) {
        guard let line = try? AdminCodec.line(request, id: id) else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: line), promise: nil)
    }

    private static func isConnectTimeout(_ error: any Error) -> Bool {
        if case ChannelError.connectTimeout = error { return true }
        if let error = error as? NIOConnectionError { return error.connectionErrors.contains { isConnectTimeout($0.error) } }
        return false
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        return "\(error)"
    }
}

extension AdminClient {
    // MARK: - Finding a parent

    /// The socket to use: `explicit`, else `FLAME_ADMIN_SOCKET`, else the only live parent in
    /// the socket directory.
    public static func resolveSocket(_ explicit: String?) throws(AdminClientError) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let override = getenv(SocketLocation.overrideVariable).map({ String(cString: $0) }), !override.isEmpty { return override }
        let discovery = SocketLocation.discover()
        let live = discovery.parents.filter(\.isAlive)
        switch live.count {
        case 0:
            let looked = SocketLocation.directories().joined(separator: ", ")
            var reason = "no running flame parent has a socket there (start one, or pass --socket)"
            for refused in discovery.refused { reason += "; refused \(refused.directory): \(refused.problem)" }
            throw .cannotConnect(path: looked, reason: reason)
        case 1:
            return live[0].path
        default:
            let list = live.map { "  \($0.app) (pid \($0.pid)): \($0.path)" }.joined(separator: "\n")
            throw .ambiguous("several flame parents are running; choose one with --socket:\n\(list)")
        }
    }
}
