import CFLAMEShims
import FLAMEAdminProtocol
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The admin server's end of one client connection, on the connection's event loop: checks
/// the peer's uid, takes a slot, splits what arrives into request lines (at most 64 KiB each)
/// and hands them, within the connection's request budget, to its ``AdminSession``, which
/// answers them in order.
final class AdminConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let server: AdminServer
    private let id: UInt64
    private var reader = LineReader(maximumLength: AdminCodec.maximumLineLength)
    private var budget: RequestBudget<ContinuousClock.Instant>
    private var session: AdminSession?

    init(server: AdminServer, id: UInt64) {
        self.server = server
        self.id = id
        let limits = server.configuration
        budget = RequestBudget(rate: limits.requestsPerSecond, burst: limits.requestsPerSecond * 2, now: .now)
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let limit = server.configuration.clientBufferBytes
        guard let provider = channel as? any SocketOptionProvider else {
            AdminConnection(id: id, channel: channel, limit: limit).close(saying: "the admin server cannot tell who you are")
            return
        }
        // On the channel's loop this completes at once, before any read is handled.
        let credentials: EventLoopFuture<flame_ucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        let server = self.server
        let id = self.id
        credentials.assumeIsolated().whenComplete { result in
            let connection = AdminConnection(id: id, peerPID: (try? result.get())?.pid ?? 0, channel: channel, limit: limit)
            guard case .success(let peer) = result, peer.uid == geteuid() else {
                let uid = (try? result.get()).map { String($0.uid) } ?? "?"
                let pid = (try? result.get()).map { String($0.pid) } ?? "?"
                server.logger.warning("refused admin client of another uid", metadata: ["uid": "\(uid)", "pid": "\(pid)"])
                connection.close(saying: "connections from uid \(uid) are refused; this admin socket serves uid \(geteuid()) only")
                return
            }
            if let refusal = server.admit(connection) {
                connection.close(saying: refusal)
                return
            }
            self.session = AdminSession(server: server, connection: connection)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }  // refused: closing
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        for item in reader.feed(bytes) {
            let now = ContinuousClock.now
            guard budget.take(now: now) else {
                // Each ignored request is answered (with its id), so a client waiting for it
                // learns why at once; the connection's buffer bounds what that costs.
                let id = if case .line(let bytes) = item { AdminCodec.header(ofLine: bytes).id } else { Int?.none }
                session.connection.send(
                    .error(message: "too many requests: at most \(Int(server.configuration.requestsPerSecond)) a second; ignored"), id: id)
                continue
            }
            server.noteActivity(of: id)
            session.received(item)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.ended()
        server.release(id)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
