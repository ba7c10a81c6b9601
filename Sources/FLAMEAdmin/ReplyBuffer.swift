import FLAMEAdminProtocol

/// The replies queued for one admin client, bounded in bytes.
///
/// What waits to be written and what a write has taken but not finished both count against
/// `limit`: a client that reads too slowly loses further lines (counted, and told how many
/// with a `dropped` line once half the room is free again), and its queued replies never
/// take more than `limit` bytes (a write's leftover is copied back in front, briefly twice).
/// No I/O here: ``AdminConnection`` does the writing.
struct ReplyBuffer {
    let limit: Int
    /// Bytes waiting for the next write.
    private(set) var pending: [UInt8] = []
    /// Bytes a write has taken and not yet given back (``takeForWriting()``).
    private(set) var inFlight = 0
    /// Lines refused since the client was last told.
    private(set) var dropped = 0
    /// The most bytes ever buffered at once.
    private(set) var highWater = 0

    init(limit: Int) { self.limit = limit }

    /// Everything this client's replies take now.
    var buffered: Int { pending.count + inFlight }

    /// Queues `line` (with its newline), or counts it as dropped when it would not fit.
    mutating func queue(_ line: [UInt8]) -> Bool {
        guard append(line) else {
            dropped += 1
            return false
        }
        return true
    }

    /// Takes all pending bytes for one write; they stay counted until ``wrote(_:of:)``.
    mutating func takeForWriting() -> [UInt8] {
        precondition(inFlight == 0, "a write is already in flight")
        defer {
            inFlight = pending.count
            pending = []
        }
        return pending
    }

    /// The write took the first `count` bytes of `taken` (what ``takeForWriting()``
    /// returned); the rest goes back in front of what was queued meanwhile.
    mutating func wrote(_ count: Int, of taken: [UInt8]) {
        pending = Array(taken[count...]) + pending
        inFlight = 0
        guard dropped > 0, buffered < limit / 2, let notice = try? AdminCodec.line(AdminReply.dropped(count: dropped)),
            append(notice)
        else { return }
        dropped = 0
    }

    private mutating func append(_ line: [UInt8]) -> Bool {
        guard buffered + line.count <= limit else { return false }
        pending.append(contentsOf: line)
        highWater = max(highWater, buffered)
        return true
    }
}
