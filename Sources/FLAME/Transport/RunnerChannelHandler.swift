import FLAMEWire
import Logging
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The parent's end of one runner connection, on its event loop: the hello first, checked
/// against the admissions table within a deadline, then every frame to the runner it proved
/// to be.
///
/// Anything but a valid hello first — garbage, an oversized frame, another message, a wrong
/// token, an unknown or already-connected runner id, silence past the deadline — closes the
/// connection and is logged; nothing the peer sent is acted on, and no other connection
/// notices.
final class RunnerChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private enum State {
        case awaitingHello
        case admitted(any RunnerConnectionDelegate)
        case closed
    }

    private var state = State.awaitingHello
    private let admissions: RunnerAdmissions
    /// For an adopted socketpair: the one runner its peer can be, told of any refusal (the
    /// peer is our child, so its failed hello is that boot's failure).
    private let owner: (any RunnerConnectionDelegate)?
    private let helloTimeout: Duration?
    /// For accepted connections: the listener's count of connections yet to say hello.
    private let pending: PendingHellos?
    private var countedAsPending = false
    private let logger: Logger
    private var connection: RunnerConnection?
    private var helloDeadline: Scheduled<Void>?

    init(
        admissions: RunnerAdmissions, owner: (any RunnerConnectionDelegate)?, helloTimeout: Duration?, pending: PendingHellos? = nil,
        logger: Logger
    ) {
        self.admissions = admissions
        self.pending = pending
        self.owner = owner
        self.helloTimeout = helloTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection = RunnerConnection(channel: context.channel)
        if let pending, !pending.enter() {
            state = .closed
            logger.error("runner connection refused: too many connections waiting to say hello", metadata: ["peer": "\(connection?.peer ?? "?")", "limit": "\(pending.limit)"])
            context.close(promise: nil)
            return
        }
        countedAsPending = pending != nil
        if let helloTimeout {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            helloDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(helloTimeout.nanoseconds)) {
                let (handler, context) = loopBound.value
                handler.refuse(FLAMEError(.bootFailed, "said no hello within \(helloTimeout)"), context: context)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let message: RunnerMessage
        do {
            message = try frame.withUnsafeReadableBytes { bytes throws(WireError) in try RunnerMessage(frameBytes: bytes) }
        } catch {
            violated(FLAMEError(.bootFailed, "sent an invalid frame: \(error)"), context: context)
            return
        }
        switch state {
        case .admitted(let delegate):
            delegate.received(message)
        case .awaitingHello:
            guard case .hello(let hello) = message else {
                refuse(FLAMEError(.bootFailed, "sent \(message.kind) before its hello"), context: context)
                return
            }
            admit(hello, context: context)
        case .closed:
            break
        }
    }

    private func admit(_ hello: RunnerHello, context: ChannelHandlerContext) {
        switch admissions.admit(hello) {
        case .success(let (expectation, delegate)):
            helloDeadline?.cancel()
            leavePending()
            state = .admitted(delegate)
            // Senders may now write straight to the socket (see RunnerConnection).
            if let socket = try? context.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                of: NIOBSDSocket.Handle.self, { $0 }) ?? nil
            {
                connection?.writeDirectly(through: socket)
            }
            let milliseconds = UInt32(clamping: expectation.heartbeatInterval.nanoseconds / 1_000_000)
            connection?.send(.welcome(heartbeatIntervalMilliseconds: max(milliseconds, 1)))
            if let connection { delegate.connected(connection, hello: hello) }
        case .failure(let refusal):
            if owner == nil, let delegate = admissions.delegate(of: hello.runnerID) {
                if refusal.failsBoot { delegate.refused(refusal.error) } else { delegate.impostorRefused(refusal.error) }
            }
            refuse(refusal.error, context: context)
        }
    }

    /// Ends a connection that never became a runner's.
    private func refuse(_ error: FLAMEError, context: ChannelHandlerContext) {
        guard case .awaitingHello = state else { return }
        state = .closed
        helloDeadline?.cancel()
        logger.error("runner connection refused", metadata: ["peer": "\(connection?.peer ?? "?")", "error": "\(error.message)"])
        owner?.refused(error)
        connection?.close()
    }

    /// Ends a connection whose peer broke the protocol, before or after its hello.
    private func violated(_ error: FLAMEError, context: ChannelHandlerContext) {
        switch state {
        case .awaitingHello:
            refuse(error, context: context)
        case .admitted(let delegate):
            state = .closed
            logger.error("invalid frame from runner; closing its connection", metadata: ["peer": "\(connection?.peer ?? "?")", "error": "\(error.message)"])
            connection?.close()
            delegate.disconnected(violation: error)
        case .closed:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let wire = error as? WireError {
            violated(FLAMEError(.bootFailed, "sent an invalid frame: \(wire)"), context: context)
        } else if case .admitted = state, let io = error as? IOError, Self.peerWentAway.contains(io.errnoCode) {
            // A runner killed with data in flight resets its connection: it is gone, and
            // channelInactive reports the plain disconnect.
            logger.debug("runner connection reset", metadata: ["peer": "\(connection?.peer ?? "?")", "error": "\(io)"])
            context.close(promise: nil)
        } else {
            violated(FLAMEError(.bootFailed, "connection failed: \(error)"), context: context)
        }
    }

    /// Errors that mean the peer's end is gone (reset, or dead by keepalive), not misbehaving.
    private static let peerWentAway: Set<Int32> = [ECONNRESET, EPIPE, ETIMEDOUT]

    private func leavePending() {
        if countedAsPending { pending?.leave() }
        countedAsPending = false
    }

    func channelInactive(context: ChannelHandlerContext) {
        helloDeadline?.cancel()
        leavePending()
        connection?.markClosed()
        if case .admitted(let delegate) = state {
            state = .closed
            delegate.disconnected(violation: nil)
        } else {
            state = .closed
        }
        context.fireChannelInactive()
    }
}

extension RunnerMessage {
    /// The message's name, for errors (never its contents).
    var kind: String {
        switch self {
        case .hello: "hello"
        case .result: "a result"
        case .childExited: "a child exit"
        case .heartbeat: "a heartbeat"
        }
    }
}

/// Accepted connections that have not said hello yet, bounded: each costs a socket and a
/// deadline, and a flood of them must not take the descriptors real runners need.
final class PendingHellos: Sendable {
    let limit: Int
    private let count = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Counts one more; false (not counted) when `limit` are already waiting.
    func enter() -> Bool {
        count.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }

    /// Connections waiting now.
    var waiting: Int { count.withLock { $0 } }
}
