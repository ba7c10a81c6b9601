import Testing

/// Any JSON value, for tests that care about the grammar, not a message's shape.
enum AnyJSON: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .null
        } else if let bool = try? value.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? value.decode(Double.self) {
            self = .number(number)
        } else if let string = try? value.decode(String.self) {
            self = .string(string)
        } else if let array = try? value.decode([AnyJSON].self) {
            self = .array(array)
        } else {
            self = .object(try value.decode([String: AnyJSON].self))
        }
    }
}

extension AnyJSON {
    /// The member `key` of an object; nil for anything else.
    subscript(key: String) -> AnyJSON? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// The elements of an array; nil for anything else.
    var elements: [AnyJSON]? {
        if case .array(let elements) = self { elements } else { nil }
    }
}


/// A text RFC 8259 (or RFC 3629, for the bytes of strings) refuses, labelled with the rule.
struct Malformed: CustomTestStringConvertible, Sendable {
    var rule: String
    var bytes: [UInt8]
    var testDescription: String { rule }

    init(_ rule: String, _ text: String) {
        self.rule = rule
        bytes = Array(text.utf8)
    }

    init(_ rule: String, bytes: [UInt8]) {
        self.rule = rule
        self.bytes = bytes
    }

    /// A string's quotes around `inner`.
    static func string(_ rule: String, _ inner: [UInt8]) -> Malformed {
        Malformed(rule, bytes: [UInt8(ascii: "\"")] + inner + [UInt8(ascii: "\"")])
    }

    static let cases: [Malformed] = [
        // §2: JSON-text = ws value ws; ws is space, tab, LF, CR only.
        Malformed("no value at all", ""), Malformed("whitespace only", " \t\r\n"),
        Malformed("text after the value", "{} x"), Malformed("two values", "1 2"), Malformed("two objects", "{}{}"),
        Malformed("an extra closing bracket", "[]]"), Malformed("form feed is not whitespace", "\u{0C}1"),
        Malformed("vertical tab is not whitespace", "[\u{0B}]"), Malformed("no-break space is not whitespace", "\u{A0}1"),
        Malformed("no comments", "[1] // note"), Malformed("no block comments", "/* note */ 1"),
        // §3: the literals are lower case, and there are three.
        Malformed("a cut-off true", "tru"), Malformed("a cut-off null", "nul"), Malformed("True is not true", "True"),
        Malformed("NULL is not null", "NULL"), Malformed("no NaN", "NaN"), Malformed("no Infinity", "Infinity"),
        Malformed("no -Infinity", "-Infinity"), Malformed("no undefined", "undefined"),
        // §4: objects.
        Malformed("an unclosed object", #"{"a":1"#), Malformed("a lone brace", "{"), Malformed("a trailing comma in an object", #"{"a":1,}"#),
        Malformed("a missing colon", #"{"a" 1}"#), Malformed("a missing value", #"{"a":}"#), Malformed("a number as key", "{1:2}"),
        Malformed("an unquoted key", "{a:1}"), Malformed("single quotes", "{'a':1}"), Malformed("a missing comma between members", #"{"a":1 "b":2}"#),
        // §5: arrays.
        Malformed("an unclosed array", "[1"), Malformed("a trailing comma in an array", "[1,]"), Malformed("a leading comma", "[,1]"),
        Malformed("a missing comma", "[1 2]"), Malformed("an empty element", "[1,,2]"),
        // §6: numbers.
        Malformed("a leading zero", "01"), Malformed("a negative leading zero", "-01"), Malformed("no digits after the point", "1."),
        Malformed("no digits before the point", ".5"), Malformed("a lone minus", "-"), Malformed("no plus sign", "+1"),
        Malformed("no exponent digits", "1e"), Malformed("no exponent digits after the sign", "1e+"),
        Malformed("a point before the exponent", "1.e3"), Malformed("no hexadecimal", "0x10"), Malformed("no digit separators", "1_000"),
        Malformed("two minus signs", "--1"), Malformed("two points", "1.5.2"),
        // §7: strings. Quotes around it; only the listed escapes; control characters escaped.
        Malformed("an unterminated string", #""abc"#), Malformed("a backslash at the end", #""\"#),
        Malformed("an escaped quote that ends nothing", #""\""#), Malformed("escape \\x", #""\x41""#), Malformed("escape \\q", #""\q""#),
        Malformed("escape \\'", #""\'""#), Malformed("escape \\a", #""\a""#), Malformed("escape \\U", #""\U0041""#),
        Malformed("escape \\0", #""\0""#), Malformed("a short \\u escape", #""\u12""#), Malformed("a \\u escape with a non-hex digit", #""\u12g4""#),
        Malformed("a \\u escape with braces", #""\u{41}""#), Malformed("a raw control character", "\"a\u{01}b\""),
        Malformed("a raw tab", "\"a\tb\""), Malformed("a raw newline", "\"a\nb\""), Malformed("a raw NUL", bytes: Array("\"a".utf8) + [0] + Array("b\"".utf8)),
        Malformed("a raw unit separator (U+001F)", "\"\u{1F}\""),
        // §8.2: a \u escape of a surrogate must be a high one followed by a low one.
        Malformed("a lone high surrogate", #""\ud800""#), Malformed("a lone low surrogate", #""\udc00""#),
        Malformed("a high surrogate before a letter", #""\ud800x""#), Malformed("a high surrogate before a non-surrogate escape", #""\ud800\u0041""#),
        Malformed("two high surrogates", #""\ud800\ud800""#), Malformed("a low surrogate before a high one", #""\udc00\ud800""#),
        Malformed("a high surrogate before an escaped newline", #""\ud800\n""#), Malformed("a high surrogate cut off after its backslash", #""\ud800\"#),
        // §8.1 and RFC 3629: the text is UTF-8.
        string("a byte that is never UTF-8", [0xFF]), string("a lone continuation byte", [0x80]),
        string("an overlong two-byte form", [0xC0, 0xAF]), string("an overlong three-byte form", [0xE0, 0x80, 0xAF]),
        string("an overlong four-byte form", [0xF0, 0x80, 0x80, 0xAF]), string("an encoded surrogate", [0xED, 0xA0, 0x80]),
        string("a code point past U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), string("a truncated three-byte sequence", [0xE6, 0x97]),
        string("a truncated sequence at the end of the text", [0xE6]), string("a five-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        string("a lead byte before an ASCII letter", [0xC3, 0x41]), Malformed("UTF-8 garbage outside a string", bytes: [0xFF]),
        Malformed("invalid UTF-8 in a key", bytes: Array(#"{""#.utf8) + [0xC0, 0x80] + Array(#"":1}"#.utf8)),
    ]
}
