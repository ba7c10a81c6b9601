/// A JSON object: keys are found by comparing their bytes, member by member (objects in the
/// protocol have a dozen members at most, so a scan beats building a dictionary).
struct ObjectContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: JSONDocument
    let index: Int
    let path: JSONCodingPath

    var codingPath: [any CodingKey] { path.keys }

    var allKeys: [Key] {
        var keys: [Key] = []
        forEachMember { keyIndex, _ in
            if let name = try? document.string(at: keyIndex, path: path), let key = Key(stringValue: name) { keys.append(key) }
            return false
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    /// The value node for `key`, if the object has it.
    private func member(_ key: Key) -> Int? {
        var name = key.stringValue
        return name.withUTF8 { name in
            var keyIndex = index + 1
            for _ in 0..<document.nodes[index].count {
                if document.key(at: keyIndex, is: name) { return keyIndex + 1 }
                keyIndex = document.next(after: keyIndex + 1)
            }
            return nil
        }
    }

    /// Calls `body` with each member's key and value node until it returns true.
    private func forEachMember(_ body: (_ key: Int, _ value: Int) -> Bool) {
        var keyIndex = index + 1
        for _ in 0..<document.nodes[index].count {
            if body(keyIndex, keyIndex + 1) { return }
            keyIndex = document.next(after: keyIndex + 1)
        }
    }

    private func value(_ key: Key) throws -> Int {
        guard let value = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: path.keys, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }

    private func decoder(_ key: Key) throws -> NodeDecoder {
        NodeDecoder(document: document, index: try value(key), path: path.appending(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool { document.nodes[try value(key)].kind == .null }
    func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try decoder(key).decode(Bool.self) }
    func decode(_: String.Type, forKey key: Key) throws -> String { try decoder(key).decode(String.self) }
    func decode(_: Double.Type, forKey key: Key) throws -> Double { try decoder(key).decode(Double.self) }
    func decode(_: Float.Type, forKey key: Key) throws -> Float { try decoder(key).decode(Float.self) }
    func decode(_: Int.Type, forKey key: Key) throws -> Int { try decoder(key).decode(Int.self) }
    func decode(_: Int8.Type, forKey key: Key) throws -> Int8 { try decoder(key).decode(Int8.self) }
    func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try decoder(key).decode(Int16.self) }
    func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try decoder(key).decode(Int32.self) }
    func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try decoder(key).decode(Int64.self) }
    func decode(_: UInt.Type, forKey key: Key) throws -> UInt { try decoder(key).decode(UInt.self) }
    func decode(_: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder(key).decode(UInt8.self) }
    func decode(_: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder(key).decode(UInt16.self) }
    func decode(_: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder(key).decode(UInt32.self) }
    func decode(_: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder(key).decode(UInt64.self) }
    func decode<Value: Decodable>(_: Value.Type, forKey key: Key) throws -> Value { try Value(from: try decoder(key)) }

    // One lookup for an optional field, where the protocol's defaults make three
    // (contains, decodeNil, decode).
    private func present(_ key: Key) -> NodeDecoder? {
        guard let value = member(key), document.nodes[value].kind != .null else { return nil }
        return NodeDecoder(document: document, index: value, path: path.appending(key))
    }

    func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.decode(Bool.self) }
    func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? { try present(key)?.decode(String.self) }
    func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.decode(Double.self) }
    func decodeIfPresent(_: Float.Type, forKey key: Key) throws -> Float? { try present(key)?.decode(Float.self) }
    func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.decode(Int.self) }
    func decodeIfPresent(_: Int8.Type, forKey key: Key) throws -> Int8? { try present(key)?.decode(Int8.self) }
    func decodeIfPresent(_: Int16.Type, forKey key: Key) throws -> Int16? { try present(key)?.decode(Int16.self) }
    func decodeIfPresent(_: Int32.Type, forKey key: Key) throws -> Int32? { try present(key)?.decode(Int32.self) }
    func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.decode(Int64.self) }
    func decodeIfPresent(_: UInt.Type, forKey key: Key) throws -> UInt? { try present(key)?.decode(UInt.self) }
    func decodeIfPresent(_: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(key)?.decode(UInt8.self) }
    func decodeIfPresent(_: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(key)?.decode(UInt16.self) }
    func decodeIfPresent(_: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(key)?.decode(UInt32.self) }
    func decodeIfPresent(_: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(key)?.decode(UInt64.self) }
    func decodeIfPresent<Value: Decodable>(_: Value.Type, forKey key: Key) throws -> Value? { try present(key).map { try Value(from: $0) } }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try decoder(key).unkeyedContainer() }

    func superDecoder() throws -> any Decoder {
        guard let key = Key(stringValue: "super") else {
            throw DecodingError.dataCorrupted(.init(codingPath: path.keys, debugDescription: "This container has no \"super\" key."))
        }
        return try superDecoder(forKey: key)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(key) }
}

/// A JSON array, read front to back.
struct ArrayContainer: UnkeyedDecodingContainer {
    let document: JSONDocument
    let path: JSONCodingPath
    let count: Int?
    private(set) var currentIndex = 0
    /// The node of the element at `currentIndex`.
    private var cursor: Int

    init(document: JSONDocument, index: Int, path: JSONCodingPath) {
        self.document = document
        self.path = path
        self.count = Int(document.nodes[index].count)
        self.cursor = index + 1
    }

    var codingPath: [any CodingKey] { path.keys }
    var isAtEnd: Bool { currentIndex >= count! }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: path.appending(index: currentIndex).keys, debugDescription: "Unkeyed container is at end."))
        }
        let decoder = NodeDecoder(document: document, index: cursor, path: path.appending(index: currentIndex))
        cursor = document.next(after: cursor)
        currentIndex += 1
        return decoder
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, document.nodes[cursor].kind == .null else { return false }
        _ = try next()
        return true
    }

    mutating func decode(_: Bool.Type) throws -> Bool { try next().decode(Bool.self) }
    mutating func decode(_: String.Type) throws -> String { try next().decode(String.self) }
    mutating func decode(_: Double.Type) throws -> Double { try next().decode(Double.self) }
    mutating func decode(_: Float.Type) throws -> Float { try next().decode(Float.self) }
    mutating func decode(_: Int.Type) throws -> Int { try next().decode(Int.self) }
    mutating func decode(_: Int8.Type) throws -> Int8 { try next().decode(Int8.self) }
    mutating func decode(_: Int16.Type) throws -> Int16 { try next().decode(Int16.self) }
    mutating func decode(_: Int32.Type) throws -> Int32 { try next().decode(Int32.self) }
    mutating func decode(_: Int64.Type) throws -> Int64 { try next().decode(Int64.self) }
    mutating func decode(_: UInt.Type) throws -> UInt { try next().decode(UInt.self) }
    mutating func decode(_: UInt8.Type) throws -> UInt8 { try next().decode(UInt8.self) }
    mutating func decode(_: UInt16.Type) throws -> UInt16 { try next().decode(UInt16.self) }
    mutating func decode(_: UInt32.Type) throws -> UInt32 { try next().decode(UInt32.self) }
    mutating func decode(_: UInt64.Type) throws -> UInt64 { try next().decode(UInt64.self) }
    mutating func decode<Value: Decodable>(_: Value.Type) throws -> Value { try Value(from: try next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
