import FLAMEWire
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What a connection tells the runner it carries (``ConnectedRunner``). Called on the
/// connection's event loop.
protocol RunnerConnectionDelegate: AnyObject, Sendable {
    /// The hello was verified and the runner welcomed; `connection` now carries it.
    func connected(_ connection: RunnerConnection)
    /// A peer that proved this runner's token was refused (built from other sources, another
    /// protocol), or an adopted socket's peer failed its hello: the boot fails with `error`.
    func refused(_ error: FLAMEError)
    /// A peer that could not prove this runner's token claimed to be it and was refused:
    /// not this boot's failure (anyone can claim an id), but worth naming if the boot fails.
    func impostorRefused(_ error: FLAMEError)
    /// A frame from the admitted runner.
    func received(_ message: RunnerMessage)
    /// The connection is closed; `violation` when the runner broke the protocol.
    func disconnected(violation: FLAMEError?)
}

/// The parent's sending end of one runner connection, usable from any thread.
///
/// While the socket takes them, a sender writes its frame itself, with one non-blocking
/// `send(2)` on its own thread: no hand-off to the event loop and no wake-up of it (the
/// measurement that justified this is in docs/PERFORMANCE.md). When the socket is full
/// (a large payload, a slow runner) the rest goes to the event loop, and every frame after
/// it too, in order, until the loop has written everything; senders then append to one
/// buffer that the loop writes in one go, so under load many frames share a syscall.
final class RunnerConnection: Sendable {
    private struct Outbox {
        var pending: [UInt8] = []
        /// The event loop has bytes to write (or a flush scheduled): frames queue behind them.
        var loopOwnsWrites = false
        var flushScheduled = false
        var loopWritesInFlight = 0
        var closed = false
        /// A duplicate of the channel's socket for direct writes (closed with the connection,
        /// under this lock, so a write can never reach a reused descriptor); -1 for none.
        var socket: Int32
    }
    let channel: any Channel
    private let outbox: Mutex<Outbox>

    /// `socket`: the channel's descriptor, when known, for direct writes (it is duplicated
    /// here, on the event loop, while the channel surely holds it open).
    init(channel: any Channel, socket: Int32?) {
        self.channel = channel
        self.outbox = Mutex(Outbox(socket: socket.map { fcntl($0, F_DUPFD_CLOEXEC, 0) } ?? -1))
    }

    /// Sends a message; a closed connection drops it (the runner's exit is reported apart).
    func send(_ message: ParentMessage) {
        let scheduleFlush = outbox.withLock { outbox -> Bool in
            guard !outbox.closed else { return false }
            message.encodeFrame(into: &outbox.pending)
            if outbox.loopOwnsWrites || outbox.socket < 0 {
                outbox.loopOwnsWrites = true
                guard !outbox.flushScheduled else { return false }
                outbox.flushScheduled = true
                return true
            }
            let written = outbox.pending.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = Glibc.send(outbox.socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                    if count > 0 {
                        offset += count
                    } else if count < 0, errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                return offset
            }
            if written == outbox.pending.count {
                outbox.pending.removeAll(keepingCapacity: outbox.pending.capacity <= 64 * 1024)
                return false
            }
            // Full (or failing: the loop then sees the error and closes the channel).
            outbox.pending.removeFirst(written)
            outbox.loopOwnsWrites = true
            outbox.flushScheduled = true
            return true
        }
        if scheduleFlush { channel.eventLoop.execute { self.flush() } }
    }

    private func flush() {
        let buffer = outbox.withLock { outbox -> ByteBuffer? in
            outbox.flushScheduled = false
            guard !outbox.pending.isEmpty else {
                if outbox.loopWritesInFlight == 0 { outbox.loopOwnsWrites = false }
                return nil
            }
            outbox.loopWritesInFlight += 1
            defer { outbox.pending.removeAll(keepingCapacity: outbox.pending.capacity <= 1 << 20) }
            return channel.allocator.buffer(bytes: outbox.pending)
        }
        guard let buffer else { return }
        channel.writeAndFlush(buffer).whenComplete { _ in
            let again = self.outbox.withLock { outbox -> Bool in
                outbox.loopWritesInFlight -= 1
                guard outbox.loopWritesInFlight == 0, !outbox.flushScheduled else { return false }
                if outbox.pending.isEmpty {
                    outbox.loopOwnsWrites = false
                    return false
                }
                outbox.flushScheduled = true
                return true
            }
            if again { self.flush() }
        }
    }

    /// Closes the connection (the runner exits on the end of its stream).
    func close() {
        markClosed()
        channel.close(promise: nil)
    }

    func markClosed() {
        outbox.withLock { outbox in
            outbox.closed = true
            outbox.pending = []
            if outbox.socket >= 0 {
                Glibc.close(outbox.socket)
                outbox.socket = -1
            }
        }
    }

    /// The peer's address, for logs.
    var peer: String { channel.remoteAddress.map { "\($0)" } ?? "socketpair" }
}
