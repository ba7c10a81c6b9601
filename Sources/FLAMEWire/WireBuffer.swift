/// Appends protocol fields to a byte array.
///
/// Integers are fixed-width little-endian, strings and byte blobs carry a 32-bit length
/// first. The format is private to one build of flame-swift (parent and runner are the same
/// binary, and the handshake checks that), so it favours speed over self-description.
public struct WireWriter {
    public var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable
    public mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    @inlinable
    public mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inlinable
    public mutating func write(_ value: Int64) {
        write(UInt64(bitPattern: value))
    }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func write<Bytes: Collection>(blob: Bytes) where Bytes.Element == UInt8 {
        write(UInt32(blob.count))
        bytes.append(contentsOf: blob)
    }
}

/// Reads protocol fields written by ``WireWriter``; every read checks the remaining length.
///
/// It reads the bytes where they lie (a socket buffer, an array) for the duration of a
/// `withUnsafeBytes` scope: only the fields a message keeps (strings, payloads) are copied.
public struct WireReader {
    @usableFromInline var bytes: UnsafeRawBufferPointer.SubSequence

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes[...]
    }

    public var isAtEnd: Bool { bytes.isEmpty }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        guard let first = bytes.first else { throw .truncated }
        bytes = bytes.dropFirst()
        return first
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 { try readLittleEndian() }

    public mutating func readUInt64() throws(WireError) -> UInt64 { try readLittleEndian() }

    private mutating func readLittleEndian<I: FixedWidthInteger & UnsignedInteger>() throws(WireError) -> I {
        let size = MemoryLayout<I>.size
        guard bytes.count >= size else { throw .truncated }
        let value = I(littleEndian: bytes.base.loadUnaligned(fromByteOffset: bytes.startIndex, as: I.self))
        bytes = bytes.dropFirst(size)
        return value
    }

    public mutating func readInt64() throws(WireError) -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    /// The next blob's bytes, valid while the buffer being read is.
    public mutating func readBlob() throws(WireError) -> UnsafeRawBufferPointer.SubSequence {
        let count = Int(try readUInt32())
        guard bytes.count >= count else { throw .truncated }
        let blob = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return blob
    }

    public mutating func readString() throws(WireError) -> String {
        let blob = try readBlob()
        guard let string = String(validating: blob, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }
}

/// Why bytes could not be read as a frame or message. The connection that sent them is
/// closed; nothing else is affected.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated
    case invalidUTF8
    case unknownMessageTag(UInt8)
    case trailingBytes(Int)
    case frameTooLarge(size: Int, limit: Int)
    case invalidValue(String)

    public var description: String {
        switch self {
        case .truncated: "message is truncated"
        case .invalidUTF8: "string field is not valid UTF-8"
        case .unknownMessageTag(let tag): "unknown message tag \(tag)"
        case .trailingBytes(let count): "\(count) unexpected bytes after the message"
        case .frameTooLarge(let size, let limit): "frame of \(size) bytes exceeds the limit of \(limit) bytes"
        case .invalidValue(let what): "invalid value: \(what)"
        }
    }
}
