import FLAMEAdminProtocol
import NIOCore
import Synchronization

/// One client's connection, as the server and its session write to it: reply lines go to the
/// channel on its event loop, bounded in bytes.
///
/// What waits in the channel (written, not yet taken by the kernel) counts against `limit`:
/// while a client reads too slowly, further lines are dropped, never queued without bound and
/// never blocking the sender; the client is told how many with a `dropped` line once half
/// the room is free again. A line always goes out when nothing waits (a snapshot larger than
/// `limit` is not dropped forever), so a stalled client holds at most `limit` bytes plus one
/// line, beside the kernel's socket buffer.
final class AdminConnection: Sendable {
    private struct Output {
        var pending = 0
        var dropped = 0
        var highWater = 0
        var closed = false
    }
    let id: UInt64
    /// The peer's process, for the slots' policy.
    let peerPID: Int32
    private let channel: any Channel
    private let limit: Int
    private let output = Mutex(Output())

    init(id: UInt64, peerPID: Int32 = 0, channel: any Channel, limit: Int) {
        self.id = id
        self.peerPID = peerPID
        self.channel = channel
        self.limit = limit
    }

    /// Queues `reply`; dropped (and counted) when the client's buffer is full.
    func send(_ reply: AdminReply, id: Int? = nil) {
        guard let line = try? AdminCodec.line(reply, id: id) else { return }
        send(line: line)
    }

    /// Queues an encoded line (with its newline).
    func send(line: [UInt8]) {
        let accepted = output.withLock { output -> Bool in
            guard !output.closed else { return false }
            guard output.pending == 0 || output.pending + line.count <= limit else {
                output.dropped += 1
                return false
            }
            output.pending += line.count
            output.highWater = max(output.highWater, output.pending)
            return true
        }
        guard accepted else { return }
        let count = line.count
        channel.writeAndFlush(channel.allocator.buffer(bytes: line)).whenComplete { _ in self.written(count) }
    }

    /// Counts a line not even built because the client is backed up.
    func noteDropped() {
        output.withLock { $0.dropped += 1 }
    }

    /// More than half its buffer is waiting: a subscription builds no line for it then, and
    /// when slots run out it may be displaced.
    var isBackedUp: Bool { output.withLock { $0.closed || ($0.pending > 0 && $0.pending >= limit / 2) } }

    private func written(_ count: Int) {
        let notice = output.withLock { output -> Int? in
            output.pending -= count
            guard output.dropped > 0, output.pending < limit / 2 else { return nil }
            defer { output.dropped = 0 }
            return output.dropped
        }
        if let notice { send(.dropped(count: notice)) }
    }

    /// The most bytes this client's replies ever held in the channel at once; at most
    /// `limit` plus one line.
    var bufferedBytesHighWater: Int { output.withLock { $0.highWater } }

    /// Sends `reason` as an `error` line (without an id), then closes.
    func close(saying reason: String) {
        let line = try? AdminCodec.line(AdminReply.error(message: reason))
        output.withLock { $0.closed = true }
        let channel = self.channel
        if let line {
            channel.writeAndFlush(channel.allocator.buffer(bytes: line)).whenComplete { _ in channel.close(promise: nil) }
            // A peer that does not read never lets that write finish: closed anyway.
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    /// Closes the connection (server shutdown).
    func close() {
        output.withLock { $0.closed = true }
        channel.close(promise: nil)
    }
}
