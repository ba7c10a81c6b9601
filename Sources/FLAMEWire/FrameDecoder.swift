/// Splits a byte stream into length-prefixed frames.
///
/// A frame is a 32-bit big-endian body length followed by the body. The decoder never
/// buffers more than one frame beyond `maximumFrameSize`: a larger announced length is an
/// error, reported before its body arrives, so a hostile peer cannot make it allocate.
public struct FrameDecoder {
    /// The largest body this decoder accepts. Defaults to 64 MiB.
    public let maximumFrameSize: Int
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(maximumFrameSize: Int = FrameDecoder.defaultMaximumFrameSize) {
        precondition(maximumFrameSize > 0, "maximumFrameSize must be positive")
        self.maximumFrameSize = maximumFrameSize
    }

    public static let defaultMaximumFrameSize = 64 * 1024 * 1024

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<Bytes: Sequence>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame body, or nil when more bytes are needed.
    public mutating func nextFrame() throws(WireError) -> ArraySlice<UInt8>? {
        let available = buffer.count - readIndex
        guard available >= 4 else { return nil }
        let length =
            Int(buffer[readIndex]) << 24 | Int(buffer[readIndex + 1]) << 16
            | Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
        guard length <= maximumFrameSize else {
            throw .frameTooLarge(size: length, limit: maximumFrameSize)
        }
        guard available >= 4 + length else {
            buffer.reserveCapacity(readIndex + 4 + length)
            return nil
        }
        let body = buffer[(readIndex + 4)..<(readIndex + 4 + length)]
        readIndex += 4 + length
        return body
    }

    private mutating func compactIfWorthIt() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
    }
}

/// Writes the 4-byte length prefix for a frame whose body follows it in `bytes`.
public enum FrameEncoder {
    /// Reserves the length prefix and returns its position, to be patched by ``finishFrame``.
    public static func beginFrame(in bytes: inout [UInt8]) -> Int {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        return start
    }

    /// Patches the length prefix reserved at `start` with the body length written since.
    public static func finishFrame(in bytes: inout [UInt8], startingAt start: Int) {
        let length = UInt32(bytes.count - start - 4)
        bytes[start] = UInt8(truncatingIfNeeded: length >> 24)
        bytes[start + 1] = UInt8(truncatingIfNeeded: length >> 16)
        bytes[start + 2] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[start + 3] = UInt8(truncatingIfNeeded: length)
    }
}
