import CFLAMEShims
import FLAMEAdminProtocol
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where an admin connection's replies go: each to the request whose id it carries, a
/// one-shot continuation or a stream; and how the connection ended, once it has.
final class ReplyRouter: Sendable {
    enum Waiter {
        case once(CheckedContinuation<AdminReply, any Error>)
        /// `endsAtLogsEnd`: a `logs` request without follow, whose stream is complete after
        /// its backlog.
        case stream(AsyncThrowingStream<AdminReply, any Error>.Continuation, endsAtLogsEnd: Bool)
    }
    private struct State {
        var nextID = 1
        var waiters: [Int: Waiter] = [:]
        /// Why the connection ended: requests made afterwards fail with this same error, so a
        /// parent's refusal read before the hello was even sent stays a refusal (exit 1), not a
        /// disconnection (exit 3).
        var closed: AdminClientError?
        /// A parent's last word (an error without an id): why requests still waiting fail.
        var lastError: String?
        /// Who serves the socket (SO_PEERCRED), read as the connection became active.
        var peer: flame_ucred?
    }
    private let state = Mutex(State())

    /// Who serves the socket: nil when it could not be told.
    var peer: flame_ucred? {
        get { state.withLock { $0.peer } }
        set { state.withLock { $0.peer = newValue } }
    }

    /// Registers `waiter` and returns its request id; nil (with the waiter failed) when the
    /// connection has ended.
    func register(_ waiter: Waiter) -> Int? {
        let result = state.withLock { state -> Result<Int, AdminClientError> in
            if let closed = state.closed { return .failure(closed) }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = waiter
            return .success(id)
        }
        switch result {
        case .success(let id): return id
        case .failure(let error):
            switch waiter {
            case .once(let continuation): continuation.resume(throwing: error)
            case .stream(let continuation, _): continuation.finish(throwing: error)
            }
            return nil
        }
    }

    func forget(_ id: Int) {
        _ = state.withLock { $0.waiters.removeValue(forKey: id) }
    }

    /// One line from the parent. False when the line is not JSON: nothing such a peer says
    /// can be trusted, and the connection must end (with the reason already recorded).
    func received(_ line: [UInt8]) -> Bool {
        let envelope: AdminEnvelope<AdminReply>
        do {
            envelope = try AdminCodec.decode(AdminReply.self, from: line)
        } catch {
            if AdminCodec.isMalformedJSON(error) {
                end(with: .disconnected("the parent sent a malformed reply (\(AdminCodec.describe(error)))"))
                return false
            }
            undecodable(line, error)
            return true
        }
        if envelope.id == nil, case .error(let message) = envelope.body { state.withLock { $0.lastError = message } }
        deliver(envelope)
        return true
    }

    /// The connection is gone: what waits fails with why (its first reason stays).
    func connectionEnded() {
        let lastError = state.withLock { $0.lastError }
        end(with: lastError.map { .refused($0) } ?? .disconnected("the parent closed the admin connection"))
    }

    /// Fails everything waiting with `error`, unless the connection already ended for
    /// another reason (then with that one).
    func end(with error: AdminClientError) {
        let (waiters, failure) = state.withLock { state -> ([Waiter], AdminClientError) in
            if state.closed == nil { state.closed = error }
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), state.closed!)
        }
        for waiter in waiters {
            switch waiter {
            case .once(let continuation): continuation.resume(throwing: failure)
            case .stream(let continuation, _):
                if case .timedOut = failure {
                    continuation.finish(throwing: failure)
                } else {
                    continuation.finish(throwing: AdminClientError.disconnected(failure.description))
                }
            }
        }
    }

    /// A JSON reply this client cannot read (an unknown `type` from a newer parent, a field
    /// of the wrong type): a request waiting for its one reply fails with the reason instead
    /// of waiting forever. A stream (a subscription, a log follow) skips a line of a type it
    /// does not know, so a newer parent's new kind of streamed line does not end an older
    /// client's stream; a known type it cannot read (a broken `logs-end`, say) ends it.
    private func undecodable(_ line: [UInt8], _ error: any Error) {
        let header = AdminCodec.header(ofLine: line)
        guard let id = header.id, let waiter = state.withLock({ $0.waiters[id] }) else { return }
        if case .stream = waiter, let type = header.type, !AdminReply.types.contains(type) { return }
        deliver(AdminEnvelope(id: id, .error(message: "the parent sent a reply this client cannot read: \(AdminCodec.describe(error))")))
    }

    private func deliver(_ envelope: AdminEnvelope<AdminReply>) {
        guard let id = envelope.id else {
            // Replies without an id (a `dropped` notice) concern every stream.
            let streams = state.withLock { $0.waiters.values.compactMap { if case .stream(let c, _) = $0 { c } else { nil } } }
            for stream in streams { stream.yield(envelope.body) }
            return
        }
        // A one-shot waiter leaves in the same lock it is found in: a deadline ending the
        // connection meanwhile must not resume it a second time.
        let waiter = state.withLock { state -> Waiter? in
            guard let waiter = state.waiters[id] else { return nil }
            if case .once = waiter { state.waiters[id] = nil }
            return waiter
        }
        switch waiter {
        case .once(let continuation):
            continuation.resume(returning: envelope.body)
        case .stream(let continuation, let endsAtLogsEnd):
            switch envelope.body {
            case .error(let message):
                continuation.finish(throwing: AdminClientError.refused(message))
            case .logsEnd where endsAtLogsEnd:
                continuation.yield(envelope.body)
                continuation.finish()
            case .runnerExited where !endsAtLogsEnd:
                // The runner's output is complete: a follow of it ends here (a backlog-only
                // request ends at its `logs-end`, which follows).
                continuation.yield(envelope.body)
                continuation.finish()
            default:
                continuation.yield(envelope.body)
            }
        case nil:
            break
        }
    }
}

/// The client's end of the connection, on its event loop: splits what arrives into lines
/// (up to 256 MiB each) for the router, and tells it when the connection ends.
final class ReplyLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let router: ReplyRouter
    private var reader = LineReader(maximumLength: 256 << 20)

    init(router: ReplyRouter) { self.router = router }

    func channelActive(context: ChannelHandlerContext) {
        // Now, on the loop and before any read: a parent that refuses us closes at once, and
        // a closed channel can no longer say who was at its other end.
        if let provider = context.channel as? any SocketOptionProvider {
            let peer: EventLoopFuture<flame_ucred> = provider.unsafeGetSocketOption(
                level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
            let router = self.router
            peer.assumeIsolated().whenSuccess { router.peer = $0 }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        for case .line(let line) in reader.feed(bytes) where !router.received(line) {
            context.close(promise: nil)
            return
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        router.connectionEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
