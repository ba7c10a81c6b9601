/// One line of JSON parsed into a flat array of nodes, for ``JSONLineDecoder``.
///
/// Why not Foundation's `JSONDecoder`: flame-top decodes a 16 KB snapshot (100 runners) ten
/// times a second, and `JSONDecoder` spent 0.8–1.4 ms on each — over half of flame-top's CPU
/// (docs/PERFORMANCE.md). A flat node array (no dictionary per object, no boxed values) and
/// a decoder that looks keys up by comparing bytes does the same work in a fraction of that.
/// The grammar is strict RFC 8259; the encoding side stays Foundation's `JSONEncoder`.
final class JSONDocument: Sendable {
    enum Kind: UInt8, Sendable {
        case object, array, string, escapedString, number, `true`, `false`, null
    }

    /// A value. Strings span `start..<end` without their quotes; numbers span their text.
    /// Objects and arrays: `count` members (an object's children alternate key, value) and
    /// `end` is the index of the first node after their last descendant.
    struct Node: Sendable {
        var kind: Kind
        var start: Int32
        var end: Int32
        var count: Int32
    }

    /// The text, with a 0 appended so the parser may look one byte past any token.
    let bytes: [UInt8]
    let nodes: [Node]

    /// Parses `text`; throws ``JSONSyntaxError`` for anything that is not one JSON value
    /// (surrounded by optional whitespace), or that nests deeper than `maximumDepth`.
    init(parsing text: some Collection<UInt8>, maximumDepth: Int) throws(JSONSyntaxError) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.count + 1)
        bytes.append(contentsOf: text)
        bytes.append(0)
        self.bytes = bytes
        guard bytes.count < Int(Int32.max) else { throw JSONSyntaxError("the text is too long", at: 0) }
        var parser = Parser(bytes: bytes, maximumDepth: maximumDepth)
        var nodes: [Node] = []
        nodes.reserveCapacity(bytes.count / 8)
        try parser.parseDocument(into: &nodes)
        self.nodes = nodes
    }

    /// The value of one hexadecimal digit (either case); nil for any other byte.
    @inline(__always)
    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The index of the node after `index` and its descendants.
    @inline(__always)
    func next(after index: Int) -> Int {
        let node = nodes[index]
        return node.kind == .object || node.kind == .array ? Int(node.end) : index + 1
    }
}

/// Why a line is not JSON, with the byte offset where that was found.
struct JSONSyntaxError: Error, CustomStringConvertible {
    var reason: String
    var offset: Int

    init(_ reason: String, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    var description: String { "The given data was not valid JSON: \(reason) at byte \(offset)." }
}

extension JSONDocument {
    /// A recursive-descent parser over the bytes; one pass, no allocation but the node array.
    private struct Parser {
        let bytes: [UInt8]
        let maximumDepth: Int
        var position = 0
        var depth = 0

        init(bytes: [UInt8], maximumDepth: Int) {
            self.bytes = bytes
            self.maximumDepth = maximumDepth
        }

        /// The last byte is the 0 sentinel, never part of the text.
        private var end: Int { bytes.count - 1 }

        mutating func parseDocument(into nodes: inout [Node]) throws(JSONSyntaxError) {
            skipWhitespace()
            try parseValue(into: &nodes)
            skipWhitespace()
            guard position == end else { throw JSONSyntaxError("unexpected text after the value", at: position) }
        }

        private mutating func skipWhitespace() {
            while true {
                switch bytes[position] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
                default: return
                }
            }
        }

        private mutating func parseValue(into nodes: inout [Node]) throws(JSONSyntaxError) {
            guard position < end else { throw JSONSyntaxError("unexpected end of text", at: position) }
            switch bytes[position] {
            case UInt8(ascii: "{"): try parseContainer(into: &nodes, object: true)
            case UInt8(ascii: "["): try parseContainer(into: &nodes, object: false)
            case UInt8(ascii: "\""): try parseString(into: &nodes)
            case UInt8(ascii: "t"): try parseLiteral("true", .true, into: &nodes)
            case UInt8(ascii: "f"): try parseLiteral("false", .false, into: &nodes)
            case UInt8(ascii: "n"): try parseLiteral("null", .null, into: &nodes)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber(into: &nodes)
            default: throw JSONSyntaxError("unexpected character", at: position)
            }
        }

        private mutating func parseContainer(into nodes: inout [Node], object: Bool) throws(JSONSyntaxError) {
            depth += 1
            guard depth <= maximumDepth else { throw JSONSyntaxError("nested deeper than \(maximumDepth) levels", at: position) }
            let closing = object ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let index = nodes.count
            nodes.append(Node(kind: object ? .object : .array, start: Int32(position), end: 0, count: 0))
            position += 1
            skipWhitespace()
            var count: Int32 = 0
            if bytes[position] == closing {
                position += 1
            } else {
                while true {
                    if object {
                        guard bytes[position] == UInt8(ascii: "\"") else { throw JSONSyntaxError("expected a quoted key", at: position) }
                        try parseString(into: &nodes)
                        skipWhitespace()
                        guard bytes[position] == UInt8(ascii: ":") else { throw JSONSyntaxError("expected ':'", at: position) }
                        position += 1
                        skipWhitespace()
                    }
                    try parseValue(into: &nodes)
                    count += 1
                    skipWhitespace()
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                        skipWhitespace()
                    } else if bytes[position] == closing {
                        position += 1
                        break
                    } else {
                        throw JSONSyntaxError(object ? "expected ',' or '}'" : "expected ',' or ']'", at: position)
                    }
                }
            }
            nodes[index].count = count
            nodes[index].end = Int32(nodes.count)
            depth -= 1
        }

        /// A string: RFC 8259 §7 and §8.1. Escapes must be one of `\" \\ \/ \b \f \n \r \t
        /// \uXXXX`, a `\u` high surrogate must be followed by a `\u` low one (and a low one
        /// may not stand alone), control characters must be escaped, and the raw bytes must
        /// be UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing past
        /// U+10FFFF). So every string node decodes without further checks.
        private mutating func parseString(into nodes: inout [Node]) throws(JSONSyntaxError) {
            let start = position + 1
            position = start
            var escaped = false
            while true {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    try parseEscape(stringStart: start - 1)
                    escaped = true
                } else if byte >= 0x80 {
                    try skipUTF8Sequence()
                } else if byte >= 0x20 {
                    position += 1
                } else {
                    throw JSONSyntaxError(position >= end ? "unterminated string" : "control character in a string", at: position)
                }
            }
            nodes.append(Node(kind: escaped ? .escapedString : .string, start: Int32(start), end: Int32(position), count: 0))
            position += 1
        }

        /// One escape sequence at `position` (its backslash).
        private mutating func parseEscape(stringStart: Int) throws(JSONSyntaxError) {
            switch bytes[position + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                position += 2
            case UInt8(ascii: "u"):
                let unit = try hexEscape()
                if (0xDC00...0xDFFF).contains(unit) { throw JSONSyntaxError("unpaired UTF-16 surrogate \\u\(hex(unit))", at: position - 6) }
                guard (0xD800...0xDBFF).contains(unit) else { return }
                guard bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                    (0xDC00...0xDFFF).contains(try hexEscape())
                else { throw JSONSyntaxError("unpaired UTF-16 surrogate \\u\(hex(unit))", at: position) }
            case 0 where position + 1 >= end:
                throw JSONSyntaxError("unterminated string", at: stringStart)
            default:
                throw JSONSyntaxError("invalid escape in a string", at: position)
            }
        }

        /// `\uXXXX` at `position`: its code unit; moves past it.
        private mutating func hexEscape() throws(JSONSyntaxError) -> UInt16 {
            var value: UInt16 = 0
            // The 0 sentinel is not a hex digit, so a short escape stops before the end.
            for offset in 2..<6 {
                guard let digit = JSONDocument.hexDigit(bytes[position + offset]) else {
                    throw JSONSyntaxError("malformed \\u escape in a string", at: position)
                }
                value = value << 4 | UInt16(digit)
            }
            position += 6
            return value
        }

        private func hex(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16)
            return String(repeating: "0", count: 4 - digits.count) + digits
        }

        /// One multi-byte UTF-8 sequence at `position` (RFC 3629 §4); moves past it.
        private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
            let lead = bytes[position]
            // The range of the second byte, and how many continuation bytes follow in all.
            let second: ClosedRange<UInt8>
            let continuations: Int
            switch lead {
            case 0xC2...0xDF: (second, continuations) = (0x80...0xBF, 1)
            case 0xE0: (second, continuations) = (0xA0...0xBF, 2)  // no overlong forms
            case 0xE1...0xEC, 0xEE...0xEF: (second, continuations) = (0x80...0xBF, 2)
            case 0xED: (second, continuations) = (0x80...0x9F, 2)  // no surrogates
            case 0xF0: (second, continuations) = (0x90...0xBF, 3)
            case 0xF1...0xF3: (second, continuations) = (0x80...0xBF, 3)
            case 0xF4: (second, continuations) = (0x80...0x8F, 3)  // nothing past U+10FFFF
            default: throw JSONSyntaxError("invalid UTF-8 in a string", at: position)
            }
            // The 0 sentinel is no continuation byte, so a truncated sequence stops before the end.
            guard second.contains(bytes[position + 1]) else { throw JSONSyntaxError("invalid UTF-8 in a string", at: position) }
            for offset in stride(from: 2, through: continuations, by: 1) where !(0x80...0xBF).contains(bytes[position + offset]) {
                throw JSONSyntaxError("invalid UTF-8 in a string", at: position)
            }
            position += continuations + 1
        }

        private mutating func parseLiteral(_ word: StaticString, _ kind: Kind, into nodes: inout [Node]) throws(JSONSyntaxError) {
            let start = position
            for i in 0..<word.utf8CodeUnitCount {
                guard bytes[position] == word.utf8Start[i] else { throw JSONSyntaxError("unexpected character", at: position) }
                position += 1
            }
            nodes.append(Node(kind: kind, start: Int32(start), end: Int32(position), count: 0))
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func parseNumber(into nodes: inout [Node]) throws(JSONSyntaxError) {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                try digits()
            }
            if bytes[position] == UInt8(ascii: ".") {
                position += 1
                try digits()
            }
            if bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                try digits()
            }
            nodes.append(Node(kind: .number, start: Int32(start), end: Int32(position), count: 0))
        }

        private mutating func digits() throws(JSONSyntaxError) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) else {
                throw JSONSyntaxError("malformed number", at: position)
            }
            while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        }
    }
}
