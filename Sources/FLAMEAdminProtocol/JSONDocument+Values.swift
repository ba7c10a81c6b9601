#if canImport(Glibc)
import Glibc
#endif

/// Reading scalar values out of a parsed ``JSONDocument``, with `DecodingError`s that say
/// what was expected and what was found, as Foundation's `JSONDecoder` does.
extension JSONDocument {
    func bool(at index: Int, path: JSONCodingPath) throws -> Bool {
        switch nodes[index].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self, at: index, path: path)
        }
    }

    /// The parser checked every string's escapes and UTF-8, so decoding cannot fail here.
    func string(at index: Int, path: JSONCodingPath) throws -> String {
        let node = nodes[index]
        switch node.kind {
        case .string: return String(decoding: bytes[Int(node.start)..<Int(node.end)], as: UTF8.self)
        case .escapedString: return String(decoding: unescaped(node), as: UTF8.self)
        default: throw mismatch(String.self, at: index, path: path)
        }
    }

    /// An integer: plain digits, or a fraction/exponent that is exactly an integer (`1.0`, `2e3`).
    func integer<Integer: FixedWidthInteger>(_: Integer.Type, at index: Int, path: JSONCodingPath) throws -> Integer {
        let node = nodes[index]
        guard node.kind == .number else { throw mismatch(Integer.self, at: index, path: path) }
        var position = Int(node.start)
        let end = Int(node.end)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var magnitude: UInt64 = 0
        while position < end {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (times10, overflowed) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflowed, !carried else { break }
            magnitude = sum
            position += 1
        }
        if position == end {
            if !negative, let value = Integer(exactly: magnitude) { return value }
            if negative, magnitude <= UInt64(Int64.max), let value = Integer(exactly: -Int64(magnitude)) { return value }
            if negative, magnitude == UInt64(Int64.max) + 1, let value = Integer(exactly: Int64.min) { return value }
        } else if let double = Double(text(of: node)), let value = Integer(exactly: double) {
            return value
        }
        throw corrupted("Number \(text(of: node)) does not fit in \(Integer.self).", path: path)
    }

    func floatingPoint<Float: BinaryFloatingPoint & LosslessStringConvertible>(_: Float.Type, at index: Int, path: JSONCodingPath) throws -> Float {
        let node = nodes[index]
        guard node.kind == .number else { throw mismatch(Float.self, at: index, path: path) }
        guard let value = Float(text(of: node)), value.isFinite else {
            throw corrupted("Number \(text(of: node)) is not representable as \(Float.self).", path: path)
        }
        return value
    }

    private func text(of node: Node) -> String {
        String(decoding: bytes[Int(node.start)..<Int(node.end)], as: UTF8.self)
    }

    /// Whether the string node at `index` is `name` (UTF-8); the common unescaped case
    /// compares lengths, then bytes.
    func key(at index: Int, is name: UnsafeBufferPointer<UInt8>) -> Bool {
        let node = nodes[index]
        guard node.kind == .string else {
            return node.kind == .escapedString
                && (try? string(at: index, path: .root)).map { $0.utf8.elementsEqual(name) } == true
        }
        guard name.count == Int(node.end - node.start) else { return false }
        return name.isEmpty || bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + Int(node.start), name.baseAddress!, name.count) == 0 }
    }

    /// The bytes of an escaped string with its escapes replaced, as UTF-8. The parser let
    /// only valid escapes and paired surrogates through.
    private func unescaped(_ node: Node) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(Int(node.end - node.start))
        var position = Int(node.start)
        let end = Int(node.end)
        while position < end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var value = UInt32(hex4(at: position))
                position += 4
                if (0xD800...0xDBFF).contains(value) {
                    value = 0x10000 + ((value - 0xD800) << 10) + (UInt32(hex4(at: position + 2)) - 0xDC00)
                    position += 6
                }
                output.append(contentsOf: UTF8.encode(Unicode.Scalar(value)!)!)
            default: output.append(escape)  // \" \\ \/
            }
        }
        return output
    }

    /// Four hex digits the parser has checked.
    private func hex4(at position: Int) -> UInt16 {
        var value: UInt16 = 0
        for byte in bytes[position..<position + 4] { value = value << 4 | UInt16(JSONDocument.hexDigit(byte)!) }
        return value
    }

    /// `valueNotFound` for a null, else `typeMismatch`, worded like `JSONDecoder`'s.
    func mismatch(_ type: Any.Type, at index: Int, path: JSONCodingPath) -> DecodingError {
        let found: String
        switch nodes[index].kind {
        case .null:
            return .valueNotFound(type, .init(codingPath: path.keys, debugDescription: "Expected \(type) value but found null instead."))
        case .object: found = "a dictionary"
        case .array: found = "an array"
        case .string, .escapedString: found = "a string"
        case .number: found = "a number"
        case .true, .false: found = "bool"
        }
        return .typeMismatch(type, .init(codingPath: path.keys, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }

    func corrupted(_ description: String, path: JSONCodingPath) -> DecodingError {
        .dataCorrupted(.init(codingPath: path.keys, debugDescription: description))
    }
}
