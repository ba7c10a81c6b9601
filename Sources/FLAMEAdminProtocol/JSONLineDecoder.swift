/// Decodes a `Decodable` value from one line of JSON: the admin protocol's decoding side
/// (``AdminCodec`` uses it; encoding stays Foundation's `JSONEncoder`). See ``JSONDocument``
/// for why it exists. Strategies are `JSONDecoder`'s defaults; `Date` decodes from a number
/// of seconds since 2001 (its own `Codable`), and Foundation types with special JSON forms
/// (`URL`, `Data`, `Decimal`) are not used by the protocol and not special-cased.
struct JSONLineDecoder {
    /// Deeper nesting is refused before any value is decoded.
    var maximumDepth = 64

    func decode<Value: Decodable>(_: Value.Type, from text: some Collection<UInt8>) throws -> Value {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: text, maximumDepth: maximumDepth)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: error.description, underlyingError: error))
        }
        return try Value(from: NodeDecoder(document: document, index: 0, path: .root))
    }
}

/// Where a value sits in the document, as a linked list so that descending costs nothing
/// until an error asks for the path.
indirect enum JSONCodingPath {
    case root
    case child(any CodingKey, JSONCodingPath)

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .child(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }

    func appending(_ key: some CodingKey) -> JSONCodingPath { .child(key, self) }
    func appending(index: Int) -> JSONCodingPath { .child(IndexKey(intValue: index), self) }
}

/// The key of an array element in a coding path.
struct IndexKey: CodingKey {
    var stringValue: String { "Index \(intValue!)" }
    var intValue: Int?

    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// A decoder positioned at one node; also its own single-value container.
struct NodeDecoder: Decoder, SingleValueDecodingContainer {
    let document: JSONDocument
    let index: Int
    let path: JSONCodingPath

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard document.nodes[index].kind == .object else { throw document.mismatch([String: Any].self, at: index, path: path) }
        return KeyedDecodingContainer(ObjectContainer<Key>(document: document, index: index, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.nodes[index].kind == .array else { throw document.mismatch([Any].self, at: index, path: path) }
        return ArrayContainer(document: document, index: index, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { document.nodes[index].kind == .null }
    func decode(_: Bool.Type) throws -> Bool { try document.bool(at: index, path: path) }
    func decode(_: String.Type) throws -> String { try document.string(at: index, path: path) }
    func decode(_: Double.Type) throws -> Double { try document.floatingPoint(Double.self, at: index, path: path) }
    func decode(_: Float.Type) throws -> Float { try document.floatingPoint(Float.self, at: index, path: path) }
    func decode(_: Int.Type) throws -> Int { try document.integer(Int.self, at: index, path: path) }
    func decode(_: Int8.Type) throws -> Int8 { try document.integer(Int8.self, at: index, path: path) }
    func decode(_: Int16.Type) throws -> Int16 { try document.integer(Int16.self, at: index, path: path) }
    func decode(_: Int32.Type) throws -> Int32 { try document.integer(Int32.self, at: index, path: path) }
    func decode(_: Int64.Type) throws -> Int64 { try document.integer(Int64.self, at: index, path: path) }
    func decode(_: UInt.Type) throws -> UInt { try document.integer(UInt.self, at: index, path: path) }
    func decode(_: UInt8.Type) throws -> UInt8 { try document.integer(UInt8.self, at: index, path: path) }
    func decode(_: UInt16.Type) throws -> UInt16 { try document.integer(UInt16.self, at: index, path: path) }
    func decode(_: UInt32.Type) throws -> UInt32 { try document.integer(UInt32.self, at: index, path: path) }
    func decode(_: UInt64.Type) throws -> UInt64 { try document.integer(UInt64.self, at: index, path: path) }
    func decode<Value: Decodable>(_: Value.Type) throws -> Value { try Value(from: self) }
}
