import FLAMEWire
import NIOCore
import Synchronization

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
/// Senders append encoded frames to one buffer; the first sender after a flush schedules
/// the next flush on the connection's event loop, and everything appended until it runs
/// leaves in one write. Under load many frames share a syscall and one event-loop wake-up;
/// alone, a frame leaves at once.
final class RunnerConnection: Sendable {
    private struct Outbox {
        var pending: [UInt8] = []
        var flushScheduled = false
        var closed = false
    }
    let channel: any Channel
    private let outbox = Mutex(Outbox())

    init(channel: any Channel) {
        self.channel = channel
    }

    /// Sends a message; a closed connection drops it (the runner's exit is reported apart).
    func send(_ message: ParentMessage) {
        let scheduleFlush = outbox.withLock { outbox -> Bool in
            guard !outbox.closed else { return false }
            message.encodeFrame(into: &outbox.pending)
            guard !outbox.flushScheduled else { return false }
            outbox.flushScheduled = true
            return true
        }
        guard scheduleFlush else { return }
        channel.eventLoop.execute { self.flush() }
    }

    private func flush() {
        let buffer = outbox.withLock { outbox -> ByteBuffer in
            outbox.flushScheduled = false
            defer { outbox.pending.removeAll(keepingCapacity: outbox.pending.capacity <= 1 << 20) }
            return channel.allocator.buffer(bytes: outbox.pending)
        }
        guard buffer.readableBytes > 0 else { return }
        channel.writeAndFlush(buffer, promise: nil)
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
        }
    }

    /// The peer's address, for logs.
    var peer: String { channel.remoteAddress.map { "\($0)" } ?? "socketpair" }
}
