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
    func connected(_ connection: RunnerConnection, hello: RunnerHello)
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
/// While the socket takes them, a sender writes frames itself, with a non-blocking
/// `send(2)` on its own thread: no hand-off to the event loop and no wake-up of it (the
/// measurement that justified this is in docs/PERFORMANCE.md). Senders that arrive while
/// one is writing append to a buffer that the writer sends next, so under load many frames
/// share a syscall. When the socket is full (a large payload, a slow runner) the rest goes
/// to the event loop, and every frame after it too, in order, until the loop has written
/// everything.
final class RunnerConnection: Sendable {
    fileprivate struct Outbox {
        var pending: [UInt8] = []
        var spare: [UInt8] = []
        /// A sender is writing directly, outside the lock; others leave their frames to it.
        var writing = false
        /// The event loop has bytes to write (or a flush scheduled): frames queue behind them.
        var loopOwnsWrites = false
        var flushScheduled = false
        var loopWritesInFlight = 0
        var closed = false
        /// A duplicate of the channel's socket for direct writes, -1 for none. Closed with
        /// the connection, but never while a sender writes to it (then by that sender), so
        /// a write can never reach a reused descriptor.
        var socket: Int32
    }
    fileprivate enum Next {
        case nothing
        case write([UInt8], socket: Int32)
        case flush
    }
    let channel: any Channel
    private let outbox: Mutex<Outbox>

    init(channel: any Channel) {
        self.channel = channel
        self.outbox = Mutex(Outbox(socket: -1))
    }

    /// From now on senders write through `socket`, the channel's descriptor, duplicated here
    /// (on the event loop, while the channel surely holds it open). Called once the runner
    /// is admitted: a peer that never proves itself costs one descriptor, not two.
    func writeDirectly(through socket: Int32) {
        outbox.withLock { outbox in
            guard !outbox.closed, outbox.socket < 0 else { return }
            outbox.socket = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        }
    }

    /// Sends a message; a closed connection drops it (the runner's exit is reported apart).
    func send(_ message: ParentMessage) {
        let next = outbox.withLock { outbox -> Next in
            guard !outbox.closed else { return .nothing }
            message.encodeFrame(into: &outbox.pending)
            if outbox.writing { return .nothing }
            if outbox.loopOwnsWrites || outbox.socket < 0 { return outbox.handToLoop() }
            outbox.writing = true
            var batch = outbox.spare
            swap(&batch, &outbox.pending)
            return .write(batch, socket: outbox.socket)
        }
        switch next {
        case .nothing: break
        case .flush: channel.eventLoop.execute { self.flush() }
        case .write(var batch, let socket):
            // A sender writes at most this many batches for others before it hands the rest to
            // the event loop, so no caller's thread is kept writing for everyone under load.
            var batchesLeft = 16
            while true {
                batchesLeft -= 1
                let written = Self.sendWithoutBlocking(batch, to: socket)
                let more = outbox.withLock { outbox -> Next in
                    let partial = written < batch.count
                    if partial {
                        // Full (or failing: the loop then sees the error and closes).
                        outbox.pending.insert(contentsOf: batch[written...], at: 0)
                    }
                    batch.removeAll(keepingCapacity: batch.capacity <= 64 * 1024)
                    guard !outbox.closed, !partial, !outbox.pending.isEmpty, batchesLeft > 0 else {
                        outbox.writing = false
                        outbox.spare = batch
                        if outbox.closed {
                            outbox.closeSocket()
                            return .nothing
                        }
                        return outbox.pending.isEmpty ? .nothing : outbox.handToLoop()
                    }
                    swap(&batch, &outbox.pending)
                    return .write([], socket: socket)
                }
                guard case .write = more else {
                    if case .flush = more { channel.eventLoop.execute { self.flush() } }
                    return
                }
            }
        }
    }

    private static func sendWithoutBlocking(_ bytes: [UInt8], to socket: Int32) -> Int {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.send(socket, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
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
            if !outbox.writing { outbox.closeSocket() }
        }
    }

    /// The peer's address, for logs.
    var peer: String { channel.remoteAddress.map { "\($0)" } ?? "socketpair" }
}

extension RunnerConnection.Outbox {
    /// From now until the loop has written everything, frames go through the loop.
    fileprivate mutating func handToLoop() -> RunnerConnection.Next {
        loopOwnsWrites = true
        guard !flushScheduled else { return .nothing }
        flushScheduled = true
        return .flush
    }

    fileprivate mutating func closeSocket() {
        guard socket >= 0 else { return }
        close(socket)
        socket = -1
    }
}
