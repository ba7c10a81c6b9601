import FLAMETestSupport
import FLAMEWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct MessageRoundTripTests {
    static let parentMessages: [ParentMessage] = [
        .welcome(heartbeatIntervalMilliseconds: 1000),
        .run(RunRequest(id: 42, jobType: "4Demo6ResizeV", payload: Array("{\"w\":1}".utf8))),
        .cancel(callID: .max),
        .startChild(RunRequest(id: 7, jobType: "x", payload: [])),
        .stopChild(childID: 7),
        .shutdown,
    ]

    static let runnerMessages: [RunnerMessage] = [
        .hello(RunnerHello(runnerID: "thumbs-1", token: "s3cret", buildID: "b", pid: 4242, host: "n1", clusterJob: "42")),
        .result(callID: 1, .success([1, 2, 3])),
        .result(
            callID: 2,
            .failure(
                WireFailure(
                    kind: .jobThrew, errorTypeName: "Demo.Oops", message: "oops ✗",
                    codableErrorType: "4Demo4OopsV", codableErrorPayload: [9]))),
        .childExited(childID: 3, .failure(WireFailure(kind: .cancelled, message: "stopped"))),
        .heartbeat(cpuNanoseconds: 123_456_789, residentBytes: 11_534_336),
    ]

    @Test(arguments: parentMessages)
    func parentMessageRoundTrips(_ message: ParentMessage) throws {
        var bytes: [UInt8] = []
        message.encodeFrame(into: &bytes)
        var decoder = FrameDecoder()
        decoder.append(contentsOf: bytes)
        let frame = try #require(try decoder.nextFrame())
        #expect(try ParentMessage(frame: frame) == message)
        #expect(try decoder.nextFrame() == nil)
    }

    @Test(arguments: runnerMessages)
    func runnerMessageRoundTrips(_ message: RunnerMessage) throws {
        var bytes: [UInt8] = []
        message.encodeFrame(into: &bytes)
        var decoder = FrameDecoder()
        decoder.append(contentsOf: bytes)
        let frame = try #require(try decoder.nextFrame())
        #expect(try RunnerMessage(frame: frame) == message)
    }

    @Test func framesSplitAcrossReadsAndBatchedInOneRead() throws {
        var bytes: [UInt8] = []
        for message in Self.runnerMessages { message.encodeFrame(into: &bytes) }
        // Feed one byte at a time: every frame must come out exactly once, in order.
        var decoder = FrameDecoder()
        var decoded: [RunnerMessage] = []
        for byte in bytes {
            decoder.append(contentsOf: [byte])
            while let frame = try decoder.nextFrame() { decoded.append(try RunnerMessage(frame: frame)) }
        }
        #expect(decoded == Self.runnerMessages)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func everyTruncationOfAMessageIsRejectedNotMisread() throws {
        var bytes: [UInt8] = []
        Self.runnerMessages[2].encodeFrame(into: &bytes)
        let body = bytes.dropFirst(4)
        for cut in 0..<body.count {
            let truncated = body.prefix(cut)
            #expect(throws: WireError.self) { try RunnerMessage(frame: truncated) }
        }
    }

    @Test func trailingBytesAreAnError() {
        var bytes: [UInt8] = []
        ParentMessage.shutdown.encodeFrame(into: &bytes)
        let body = bytes.dropFirst(4) + [0]
        #expect(throws: WireError.trailingBytes(1)) { try ParentMessage(frame: body) }
    }

    @Test func unknownTagIsAnError() {
        #expect(throws: WireError.unknownMessageTag(200)) { try RunnerMessage(frame: [200]) }
    }

    @Test func oversizedFrameIsRefusedBeforeItsBodyArrives() {
        var decoder = FrameDecoder(maximumFrameSize: 1024)
        decoder.append(contentsOf: [0x7f, 0xff, 0xff, 0xff])
        #expect(throws: WireError.frameTooLarge(size: 0x7fff_ffff, limit: 1024)) { try decoder.nextFrame() }
    }

    /// Random bytes and mutated frames: what decodes re-encodes to the same bytes, and to a
    /// frame that decodes to the same message; what fails, fails with a `WireError`.
    @Test func randomAndMutatedFramesDecodeToMessagesThatRoundTrip() {
        var random = TestRandom.forTest()
        var valid: [[UInt8]] = []
        for message in Self.parentMessages { valid.append(Self.body(of: message.encodeFrame)) }
        for message in Self.runnerMessages { valid.append(Self.body(of: message.encodeFrame)) }
        var decoded = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = valid.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = .random(in: 0...255, using: &random)
                }
            }
            decoded += Self.roundTrips(bytes, as: RunnerMessage.self, seed: random.seedText)
            decoded += Self.roundTrips(bytes, as: ParentMessage.self, seed: random.seedText)
        }
        #expect(decoded > 100, "seed \(random.seedText)")  // the property was really exercised
    }

    /// A frame's body (without its length prefix).
    private static func body(of encode: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(&bytes)
        return Array(bytes.dropFirst(4))
    }

    /// 1 when `bytes` decode as a `Message` that round-trips, 0 when they are refused.
    private static func roundTrips<Message: WireMessage>(_ bytes: [UInt8], as _: Message.Type, seed: String) -> Int {
        let message: Message
        do {
            message = try Message(frame: bytes[...])
        } catch {
            let _: WireError = error  // typed: a refusal is always a WireError
            return 0
        }
        let encoded = body(of: message.encodeFrame)
        // The encoding is canonical: what decodes re-encodes to the very bytes it came from,
        // so a decoder that drops or alters a field cannot pass.
        #expect(encoded == bytes, "seed \(seed): \(bytes) re-encodes as \(encoded)")
        let again = Result { () throws(WireError) -> [UInt8] in body(of: try Message(frame: encoded[...]).encodeFrame) }
        #expect(again == .success(encoded), "seed \(seed): \(bytes)")
        return 1
    }
}

/// The two message kinds, for tests generic over them.
protocol WireMessage {
    init(frame: ArraySlice<UInt8>) throws(WireError)
    func encodeFrame(into bytes: inout [UInt8])
}
extension RunnerMessage: WireMessage {}
extension ParentMessage: WireMessage {}
