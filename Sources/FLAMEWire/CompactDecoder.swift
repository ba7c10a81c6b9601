/// Decodes values written by ``CompactEncoder``. Every read is bounds-checked: malformed
/// input is a `DecodingError`, never a crash or an over-read.
public struct CompactDecoder: Sendable {
    /// Containers nested deeper than this are refused (hostile input cannot exhaust the stack).
    public var maximumDepth = 512

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: ArraySlice<UInt8>) throws -> T {
        try CompactNodeDecoder(node: bytes, codingPath: [], depth: 0, maximumDepth: maximumDepth).decodeValue(T.self)
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decode(type, from: bytes[...])
    }
}

private enum Tag: UInt8 {
    case null = 0, primitive, keyed, unkeyed
}

/// Reads lengths and slices off the front of a byte slice.
private struct Cursor {
    var bytes: ArraySlice<UInt8>
    let codingPath: [any CodingKey]

    func corrupt(_ what: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: "compact data is corrupt: \(what)"))
    }

    mutating func tag() throws -> Tag {
        guard let raw = bytes.first, let tag = Tag(rawValue: raw) else { throw corrupt("bad node tag") }
        bytes = bytes.dropFirst()
        return tag
    }

    mutating func length() throws -> Int {
        guard bytes.count >= 4 else { throw corrupt("truncated length") }
        let start = bytes.startIndex
        let value = Int(bytes[start]) | Int(bytes[start + 1]) << 8 | Int(bytes[start + 2]) << 16 | Int(bytes[start + 3]) << 24
        bytes = bytes.dropFirst(4)
        return value
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else { throw corrupt("truncated value") }
        let taken = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return taken
    }
}

struct CompactNodeDecoder: Decoder {
    let node: ArraySlice<UInt8>
    let codingPath: [any CodingKey]
    let depth: Int
    let maximumDepth: Int
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func child(_ node: ArraySlice<UInt8>, key: (any CodingKey)?) throws -> CompactNodeDecoder {
        guard depth < maximumDepth else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "nesting deeper than \(maximumDepth)"))
        }
        return CompactNodeDecoder(
            node: node, codingPath: key.map { codingPath + [$0] } ?? codingPath, depth: depth + 1, maximumDepth: maximumDepth)
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == [UInt8].self { return try Array(primitive(expecting: T.self)) as! T }
        return try T(from: self)
    }

    var isNull: Bool { node.first == Tag.null.rawValue }

    func primitive(expecting type: Any.Type) throws -> ArraySlice<UInt8> {
        var cursor = Cursor(bytes: node, codingPath: codingPath)
        switch try cursor.tag() {
        case .primitive: return try cursor.take(try cursor.length())
        case .null: throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "found nil"))
        default: throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found a container"))
        }
    }

    func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
        var cursor = Cursor(bytes: node, codingPath: codingPath)
        guard try cursor.tag() == .keyed else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "not a keyed container"))
        }
        let count = try cursor.length()
        var entries: [String: ArraySlice<UInt8>] = [:]
        entries.reserveCapacity(min(count, 64))
        for _ in 0..<count {
            let key = try cursor.take(try cursor.length())
            let value = try cursor.take(try cursor.length())
            entries[String(decoding: key, as: UTF8.self)] = value
        }
        return KeyedDecodingContainer(KeyedCompactDecodingContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        var cursor = Cursor(bytes: node, codingPath: codingPath)
        guard try cursor.tag() == .unkeyed else {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "not an unkeyed container"))
        }
        let count = try cursor.length()
        return UnkeyedCompactDecodingContainer(decoder: self, cursor: cursor, count: count)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleCompactDecodingContainer(decoder: self)
    }
}

private struct KeyedCompactDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: CompactNodeDecoder
    let entries: [String: ArraySlice<UInt8>]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.keys.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    private func child(_ key: Key) throws -> CompactNodeDecoder {
        guard let node = entries[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)"))
        }
        return try decoder.child(node, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).isNull }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(T.self) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { try child(Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

private struct UnkeyedCompactDecodingContainer: UnkeyedDecodingContainer {
    let decoder: CompactNodeDecoder
    var cursor: Cursor
    let count: Int?
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= (count ?? 0) }

    init(decoder: CompactNodeDecoder, cursor: Cursor, count: Int) {
        self.decoder = decoder
        self.cursor = cursor
        self.count = count
    }

    private mutating func next(_ type: Any.Type) throws -> CompactNodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "unkeyed container is at its end"))
        }
        let node = try cursor.take(try cursor.length())
        currentIndex += 1
        return try decoder.child(node, key: nil)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        var peek = cursor
        let node = try peek.take(try peek.length())
        guard node.first == Tag.null.rawValue else { return false }
        cursor = peek
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decodeValue(T.self) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next([String: Any].self).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next([Any].self).unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}

private struct SingleCompactDecodingContainer: SingleValueDecodingContainer {
    let decoder: CompactNodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNull }

    private func integer<I: FixedWidthInteger>(_: I.Type) throws -> I {
        let bytes = try decoder.primitive(expecting: I.self)
        guard bytes.count == MemoryLayout<I>.size else {
            throw DecodingError.typeMismatch(I.self, .init(codingPath: codingPath, debugDescription: "expected \(MemoryLayout<I>.size) bytes, found \(bytes.count)"))
        }
        var value: I = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for (offset, byte) in bytes.enumerated() { raw[offset] = byte }
        }
        return I(littleEndian: value)
    }

    func decode(_: Bool.Type) throws -> Bool { try integer(UInt8.self) != 0 }
    func decode(_: String.Type) throws -> String {
        let bytes = try decoder.primitive(expecting: String.self)
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "string is not valid UTF-8"))
        }
        return string
    }
    func decode(_: Double.Type) throws -> Double { Double(bitPattern: try integer(UInt64.self)) }
    func decode(_: Float.Type) throws -> Float { Float(bitPattern: try integer(UInt32.self)) }
    func decode(_: Int.Type) throws -> Int {
        let value = try integer(Int64.self)
        guard let int = Int(exactly: value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(value) does not fit Int"))
        }
        return int
    }
    func decode(_: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_: UInt.Type) throws -> UInt { UInt(try integer(UInt64.self)) }
    func decode(_: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
