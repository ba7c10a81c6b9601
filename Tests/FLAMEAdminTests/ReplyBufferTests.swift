@testable import FLAMEAdmin
import FLAMEAdminProtocol
import FLAMETestSupport
import Testing

/// The per-client bound on queued admin replies, without sockets.
@Suite(.timeLimit(.minutes(1))) struct ReplyBufferTests {
    private func line(_ count: Int, _ byte: UInt8 = UInt8(ascii: "x")) -> [UInt8] {
        Array(repeating: byte, count: count - 1) + [UInt8(ascii: "\n")]
    }

    @Test func linesPastTheLimitAreDroppedAndCounted() {
        var buffer = ReplyBuffer(limit: 100)
        let accepted = [buffer.queue(line(60)), buffer.queue(line(40)), buffer.queue(line(1))]
        #expect(accepted == [true, true, false])
        #expect(buffer.dropped == 1 && buffer.buffered == 100)
    }

    /// The bytes a write is sending still take memory: while a write is in flight, only what
    /// is left of the limit may be queued.
    @Test func bytesBeingWrittenCountAgainstTheLimit() {
        var buffer = ReplyBuffer(limit: 100)
        _ = buffer.queue(line(80))
        let taken = buffer.takeForWriting()
        #expect(taken.count == 80 && buffer.pending.isEmpty && buffer.buffered == 80)
        let accepted = [buffer.queue(line(30)), buffer.queue(line(20))]
        #expect(accepted == [false, true])
        buffer.wrote(0, of: taken)  // the client reads nothing
        #expect(buffer.buffered == 100 && buffer.highWater == 100)
    }

    @Test func aPartialWritePutsTheRestBackInFrontInOrder() {
        var buffer = ReplyBuffer(limit: 100)
        _ = buffer.queue(line(10, UInt8(ascii: "a")))
        let taken = buffer.takeForWriting()
        _ = buffer.queue(line(10, UInt8(ascii: "b")))
        buffer.wrote(4, of: taken)
        #expect(buffer.pending == Array(line(10, UInt8(ascii: "a")).dropFirst(4)) + line(10, UInt8(ascii: "b")))
        #expect(buffer.inFlight == 0)
    }

    @Test func theClientIsToldWhatItMissedOnceHalfTheRoomIsFree() throws {
        var buffer = ReplyBuffer(limit: 200)
        let accepted = [buffer.queue(line(190)), buffer.queue(line(50)), buffer.queue(line(50))]
        #expect(accepted == [true, false, false])
        var taken = buffer.takeForWriting()
        buffer.wrote(10, of: taken)  // 180 left: not yet
        #expect(buffer.dropped == 2 && buffer.buffered == 180)
        taken = buffer.takeForWriting()
        buffer.wrote(180, of: taken)  // all written: the notice goes out, within the bound
        let notice = try AdminCodec.line(AdminReply.dropped(count: 2))
        #expect(buffer.pending == notice && buffer.dropped == 0)
    }

    /// Random queues and writes, partial and stalled: the buffer never holds more than its
    /// limit, and what the client receives is every accepted line, in order, whole, with
    /// only `dropped` notices between them.
    @Test func randomTrafficNeverPassesTheLimitAndLosesNoAcceptedByte() {
        var random = TestRandom.forTest()
        for _ in 0..<200 {
            let limit = Int.random(in: 50...5_000, using: &random)
            var buffer = ReplyBuffer(limit: limit)
            var accepted: [UInt8] = []
            var received: [UInt8] = []
            var taken: [UInt8]?
            for step in 0..<300 {
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    let next = line(Int.random(in: 1...(limit / 2), using: &random), UInt8(ascii: "a") + UInt8(step % 26))
                    if buffer.queue(next) { accepted += next }
                case 1 where taken == nil:
                    taken = buffer.takeForWriting()
                default:
                    guard let bytes = taken else { continue }
                    let count = Int.random(in: 0...bytes.count, using: &random)
                    buffer.wrote(count, of: bytes)
                    received += bytes[..<count]
                    taken = nil
                }
                #expect(buffer.buffered <= limit, "seed \(random.seedText)")
            }
            if let bytes = taken { buffer.wrote(0, of: bytes) }
            received += buffer.pending
            let lines = received.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
            let replies = lines.filter { !$0.starts(with: Array(#"{"count""#.utf8)) }.flatMap { Array($0) + [UInt8(ascii: "\n")] }
            #expect(replies == accepted, "seed \(random.seedText)")
            #expect(buffer.highWater <= limit, "seed \(random.seedText)")
        }
    }
}
