/// Encodes `Encodable` values in flame-swift's compact binary format.
///
/// The format is private to one build (parent and runner prove they are the same build), so
/// it favours speed: fixed-width little-endian numbers, UTF-8 strings, byte arrays (`[UInt8]`)
/// copied as one blob, keyed containers with their keys (so custom decoders may read keys in
/// any order or skip them). Each value is a node:
///
///     node  = 0x00                                  nil
///           | 0x01 u32:length bytes                 primitive (number, bool, string, blob)
///           | 0x02 u32:count (u32:keylen key node)* keyed container
///           | 0x03 u32:count node*                  unkeyed container
///
/// Containers hold each child as `u32:nodelen node`, so a decoder can skip what it does not
/// read without parsing it.
public struct CompactEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let root = CompactNode()
        try root.store(value, codingPath: [])
        var bytes: [UInt8] = []
        bytes.reserveCapacity(root.estimatedSize)
        root.write(into: &bytes)
        return bytes
    }
}

/// One encoded value while its tree is being built.
final class CompactNode {
    enum Content {
        case empty
        case null
        case primitive([UInt8])
        case keyed([(String, CompactNode)])
        case unkeyed([CompactNode])
    }
    var content = Content.empty

    var estimatedSize: Int {
        switch content {
        case .empty, .null: 1
        case .primitive(let bytes): 5 + bytes.count
        case .keyed(let entries): 5 + entries.reduce(0) { $0 + 8 + $1.0.utf8.count + $1.1.estimatedSize }
        case .unkeyed(let nodes): 5 + nodes.reduce(0) { $0 + 4 + $1.estimatedSize }
        }
    }

    func write(into bytes: inout [UInt8]) {
        switch content {
        case .empty, .null:
            bytes.append(0)
        case .primitive(let payload):
            bytes.append(1)
            appendLength(payload.count, to: &bytes)
            bytes.append(contentsOf: payload)
        case .keyed(let entries):
            bytes.append(2)
            appendLength(entries.count, to: &bytes)
            for (key, node) in entries {
                let utf8 = Array(key.utf8)
                appendLength(utf8.count, to: &bytes)
                bytes.append(contentsOf: utf8)
                writeChild(node, into: &bytes)
            }
        case .unkeyed(let nodes):
            bytes.append(3)
            appendLength(nodes.count, to: &bytes)
            for node in nodes { writeChild(node, into: &bytes) }
        }
    }

    private func writeChild(_ node: CompactNode, into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: [0, 0, 0, 0])
        node.write(into: &bytes)
        let length = UInt32(bytes.count - start - 4)
        withUnsafeBytes(of: length.littleEndian) { raw in
            for offset in 0..<4 { bytes[start + offset] = raw[offset] }
        }
    }

    /// Encodes `value` into this node, taking the fast path for byte arrays.
    func store<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        // Compare types, not cast values: an empty [Int] would cast to [UInt8].
        if T.self == [UInt8].self {
            content = .primitive(value as! [UInt8])
        } else {
            try value.encode(to: CompactNodeEncoder(node: self, codingPath: codingPath))
        }
    }
}

@inline(__always)
func appendLength(_ length: Int, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian) { bytes.append(contentsOf: $0) }
}

@inline(__always)
func littleEndianBytes<I: FixedWidthInteger>(_ value: I) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

struct CompactNodeEncoder: Encoder {
    let node: CompactNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy _: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.content {} else { node.content = .keyed([]) }
        return KeyedEncodingContainer(KeyedCompactContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = node.content {} else { node.content = .unkeyed([]) }
        return UnkeyedCompactContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleCompactContainer(node: node, codingPath: codingPath)
    }
}

private struct KeyedCompactContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: CompactNode
    let codingPath: [any CodingKey]

    private func child(_ key: Key) -> CompactNode {
        let child = CompactNode()
        guard case .keyed(var entries) = node.content else { preconditionFailure("keyed container on a non-keyed node") }
        node.content = .empty  // keep the array uniquely referenced while appending
        entries.append((key.stringValue, child))
        node.content = .keyed(entries)
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).content = .null }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try child(key).store(value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy _: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        CompactNodeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: NestedKey.self)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        CompactNodeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
        CompactNodeEncoder(node: child(Key(stringValue: "super")!), codingPath: codingPath)
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        CompactNodeEncoder(node: child(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedCompactContainer: UnkeyedEncodingContainer {
    let node: CompactNode
    let codingPath: [any CodingKey]
    var count: Int {
        if case .unkeyed(let nodes) = node.content { return nodes.count }
        return 0
    }

    private func child() -> CompactNode {
        let child = CompactNode()
        guard case .unkeyed(var nodes) = node.content else { preconditionFailure("unkeyed container on another node") }
        node.content = .empty
        nodes.append(child)
        node.content = .unkeyed(nodes)
        return child
    }

    mutating func encodeNil() throws { child().content = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try child().store(value, codingPath: codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy _: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        CompactNodeEncoder(node: child(), codingPath: codingPath).container(keyedBy: NestedKey.self)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        CompactNodeEncoder(node: child(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { CompactNodeEncoder(node: child(), codingPath: codingPath) }
}

private struct SingleCompactContainer: SingleValueEncodingContainer {
    let node: CompactNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .null }
    mutating func encode(_ value: Bool) throws { node.content = .primitive([value ? 1 : 0]) }
    mutating func encode(_ value: String) throws { node.content = .primitive(Array(value.utf8)) }
    mutating func encode(_ value: Double) throws { node.content = .primitive(littleEndianBytes(value.bitPattern)) }
    mutating func encode(_ value: Float) throws { node.content = .primitive(littleEndianBytes(value.bitPattern)) }
    mutating func encode(_ value: Int) throws { node.content = .primitive(littleEndianBytes(Int64(value))) }
    mutating func encode(_ value: Int8) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: Int16) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: Int32) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: Int64) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: UInt) throws { node.content = .primitive(littleEndianBytes(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { node.content = .primitive([value]) }
    mutating func encode(_ value: UInt16) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: UInt32) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode(_ value: UInt64) throws { node.content = .primitive(littleEndianBytes(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.store(value, codingPath: codingPath) }
}
