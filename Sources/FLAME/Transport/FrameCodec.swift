import FLAMEWire
import NIOCore

/// Splits a runner connection's bytes into frames (a 32-bit big-endian length, then the
/// body), the parent's counterpart of ``FrameDecoder``.
///
/// Each frame is a slice of the read buffer, not a copy; a length beyond the limit is an
/// error before its body arrives, so a peer cannot make the parent allocate it.
struct FrameCodec: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maximumFrameSize: Int
    /// The limit for the first frame, the hello: a peer not yet authenticated gets no
    /// megabytes of the parent's memory.
    static let helloLimit = 16 * 1024
    private var framesDecoded = 0

    init(maximumFrameSize: Int = FrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let limit = framesDecoded == 0 ? min(Self.helloLimit, maximumFrameSize) : maximumFrameSize
        guard Int(length) <= limit else {
            throw WireError.frameTooLarge(size: Int(length), limit: limit)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        framesDecoded += 1
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData  // a partial frame at EOF is dropped with the connection
    }
}
