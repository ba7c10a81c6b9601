import FLAMEChaos
import FLAMETestSupport
import Foundation
import Testing

@testable import FLAMEAdminProtocol

/// The admin protocol's own JSON decoder must mean what Foundation's `JSONDecoder` means by
/// every valid text, refuse every text RFC 8259 refuses, and refuse values that do not fit
/// as Foundation does.
@Suite(.timeLimit(.minutes(1))) struct JSONLineDecoderTests {
    struct Sample: Codable, Equatable {
        var text: String
        var integer: Int
        var small: UInt8
        var wide: UInt64
        var signed: Int32
        var double: Double
        var float: Float
        var flag: Bool
        var optional: Int32?
        var list: [Int]
        var nested: [[String]]
        var table: [String: Int]?
    }

    private func both<T: Codable & Equatable>(_: T.Type, _ text: String) -> (ours: Result<T, any Error>, foundation: Result<T, any Error>) {
        let bytes = Array(text.utf8)
        return (
            Result { try JSONLineDecoder().decode(T.self, from: bytes) },
            Result { try JSONDecoder().decode(T.self, from: Data(bytes)) }
        )
    }

    /// A `Sample` object with `overrides` (`,"key":value…`) replacing or adding members.
    private func sample(_ overrides: String) -> String {
        let defaults = [
            ("text", #""a""#), ("integer", "1"), ("small", "2"), ("wide", "3"), ("signed", "-4"), ("double", "0.5"),
            ("float", "1.5"), ("flag", "true"), ("list", "[]"), ("nested", "[]"),
        ]
        let members = defaults.filter { !overrides.contains("\"\($0.0)\":") }.map { "\"\($0.0)\":\($0.1)" }
        return "{" + members.joined(separator: ",") + overrides + "}"
    }

    @Test(arguments: [
        #","optional":7,"table":{"x":1,"y":2}"#,
        #","optional":null"#,
        #","text":"q\"b\\s\/l\b\f\n\r\t é \u00e9 \ud83d\ude00 日本""#,
        #","integer":-0,"wide":18446744073709551615,"signed":-2147483648,"double":-1.25e-3"#,
        #","integer":1.0,"small":2e2,"double":1E+2,"float":-0.0"#,
        #","nested":[["a","b"],[],["\u0000"]],"list":[1, 2 ,3]"#,
        "   \n\t",
    ])
    func agreesWithFoundationOnValidInput(overrides: String) throws {
        let (ours, foundation) = both(Sample.self, sample(overrides))
        let expected = try foundation.get()
        #expect(try ours.get() == expected)
    }

    /// RFC 8259 refuses each of these (the rule is the test's label): ours refuses it as
    /// malformed JSON, a syntax error whatever type is asked for, and the same text in a
    /// field the message ignores still makes the whole line malformed. Foundation's
    /// `JSONDecoder` is laxer (next test), so the rules, not Foundation, are the reference.
    @Test(arguments: Malformed.cases)
    func refusesWhatRFC8259Refuses(_ malformed: Malformed) throws {
        let ours = Result { try JSONLineDecoder().decode(AnyJSON.self, from: malformed.bytes) }
        let error = try #require(ours.error, "accepted as \(String(describing: try? ours.get()))")
        #expect(AdminCodec.isMalformedJSON(error), "\(error)")

        let ignored = Array(#"{"type":"ok","message":"m","junk":"#.utf8) + malformed.bytes + Array("}".utf8)
        let reply = Result { try AdminCodec.decode(AdminReply.self, from: ignored) }
        let replyError = try #require(reply.error, "accepted as \(String(describing: try? reply.get()))")
        #expect(AdminCodec.isMalformedJSON(replyError), "\(replyError)")
    }

    /// Where Foundation's `JSONDecoder` (swift-corelibs-foundation, Swift 6.3.1) is laxer than
    /// the RFC, measured: it accepts trailing commas, and it checks strings and numbers only
    /// when it decodes them, so a bad escape, invalid UTF-8 or `1.` in an ignored field pass.
    /// If a Foundation update tightens this, the test says the note is out of date.
    @Test(arguments: [#"{"a":1,}"#, "[1,]"])
    func foundationAcceptsTrailingCommas(text: String) {
        #expect((try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))) != nil)
    }

    @Test(arguments: [Array(#""\q""#.utf8), [0x22, 0xFF, 0x22], Array("1.".utf8)])
    func foundationSkipsWhatItDoesNotDecode(junk: [UInt8]) {
        let line = Array(#"{"type":"ok","message":"m","junk":"#.utf8) + junk + Array("}".utf8)
        #expect((try? JSONDecoder().decode(AdminEnvelope<AdminReply>.self, from: Data(line)))?.body == .ok(message: "m"))
    }

    /// Valid texts with the awkward parts of the grammar decode to what Foundation decodes.
    @Test(arguments: [
        "0", "-0", "1E+2", "-1.25e-3", " [ ] ", "\t{\r\n}\n", #"{"":1}"#, #""\/\"\\\b\f\n\r\t""#, #""\u0000""#,
        #""\u00e9\u65E5""#, #""\ud83d\ude00""#, #""\uDBFF\uDFFF""#, "\"é日本😀\u{10FFFF}\"", #"[[[]],{},[{"a":[null,true,false]}]]"#,
        "\"\u{7F}\"",
    ])
    func agreesWithFoundationOnEveryKindOfValue(text: String) throws {
        let expected = try JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8))
        #expect(try JSONLineDecoder().decode(AnyJSON.self, from: Array(text.utf8)) == expected)
    }

    /// The edges of each UTF-8 form RFC 3629 allows, raw in a string: U+0800, U+D7FF (just
    /// below the surrogates), U+E000 (just above), U+FFFF, U+10000, U+10FFFF.
    @Test(arguments: [[0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]] as [[UInt8]])
    func acceptsEveryUTF8FormAtItsEdges(scalar: [UInt8]) throws {
        let text = [UInt8(ascii: "\"")] + scalar + [UInt8(ascii: "\"")]
        #expect(try JSONLineDecoder().decode(String.self, from: text) == String(decoding: scalar, as: UTF8.self))
    }

    @Test(arguments: [
        #","small":300"#, #","small":-1"#, #","integer":1.5"#, #","integer":"1""#, #","double":1e999"#,
        #","flag":1"#, #","text":null"#, #","list":{}"#, #","wide":18446744073709551616"#,
    ])
    func refusesValuesThatDoNotFitAsFoundationDoes(overrides: String) {
        let (ours, foundation) = both(Sample.self, sample(overrides))
        #expect(throws: (any Error).self) { try foundation.get() }
        #expect(throws: DecodingError.self) { try ours.get() }
        #expect(ours.error.map(AdminCodec.isMalformedJSON) == false, "well-formed JSON, refused for its value")
    }

    /// The sentence flamectl prints names the field, and says what Foundation's error says.
    @Test(arguments: [
        (#"{"type":"scale","min":1}"#, #"missing field "pool""#),
        (#"{"type":"scale","pool":"p","min":"3"}"#, #"field "min" has the wrong type"#),
        (#"{"type":"scale","pool":null,"min":1}"#, #"field "pool" has the wrong type"#),
    ])
    func errorsNameTheFieldLikeFoundationsDo(line: String, sentence: String) throws {
        let ours = try #require(Result { try AdminCodec.decode(AdminRequest.self, from: Array(line.utf8)) }.error)
        let foundation = try #require(Result { try JSONDecoder().decode(AdminEnvelope<AdminRequest>.self, from: Data(line.utf8)) }.error)
        #expect(AdminCodec.describe(ours) == sentence)
        #expect(AdminCodec.describe(foundation) == sentence)
    }

    @Test func malformedLinesAreDescribedAsMalformedJSON() throws {
        let ours = try #require(Result { try AdminCodec.decode(AdminRequest.self, from: Array(#"{"type":"#.utf8)) }.error)
        #expect(AdminCodec.isMalformedJSON(ours))
        #expect(AdminCodec.describe(ours).hasPrefix("malformed JSON: "), "\(AdminCodec.describe(ours))")
    }

    @Test func nestingIsBoundedBeforeAnythingIsDecoded() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: DecodingError.self) { try JSONLineDecoder().decode(AnyArray.self, from: Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONLineDecoder().decode(AnyArray.self, from: Array(fine.utf8)) }
        // A hostile line far deeper than the stack could recurse through is refused, not a crash.
        let hostile = String(repeating: "[", count: 60_000)
        #expect(throws: DecodingError.self) { try JSONLineDecoder().decode(AnyArray.self, from: Array(hostile.utf8)) }
    }

    /// Random snapshots (with awkward strings) encode with Foundation and decode back equal.
    @Test func randomSnapshotsRoundTrip() throws {
        var random = TestRandom.forTest()
        let alphabet = Array("aZ09 _-\"\\/\n\t\u{0}\u{1F}é日本😀\u{7F}")
        func text() -> String { String((0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! }) }
        for _ in 0..<200 {
            let runners = (0..<Int.random(in: 0...5, using: &random)).map { _ in
                RunnerSnapshot(
                    id: text(), state: text(), pid: Bool.random(using: &random) ? Int32.random(in: .min ... .max, using: &random) : nil,
                    host: text(), cpuPercent: Double.random(in: -1e6...1e6, using: &random), rssBytes: UInt64.random(in: 0 ... .max, using: &random),
                    inFlight: Int.random(in: .min ... .max, using: &random), completed: 0, failed: -1,
                    uptimeSeconds: Double.random(in: 0...1e-3, using: &random), lastError: Bool.random(using: &random) ? text() : nil)
            }
            let pool = PoolSnapshot(
                name: text(), min: 0, max: 8, maxConcurrency: 4, queueDepth: 3, pendingBoots: 1,
                calls: .init(completed: 1, failed: 2, timedOut: 3), latency: .init(p50Us: 1, p95Us: 2, p99Us: .max, maxUs: 0),
                bootLatency: .init(p50Us: 5, maxUs: 6), runners: runners,
                exited: Bool.random(using: &random) ? nil : [ExitedRunnerSnapshot(id: text(), reason: text(), exitedSecondsAgo: 1.5)])
            let reply = AdminReply.snapshot(Snapshot(app: text(), pid: 1, uptimeSeconds: 0.1, pools: [pool]))
            let line = try AdminCodec.line(reply, id: Int.random(in: 0...1000, using: &random)).dropLast()
            let ours = try AdminCodec.decode(AdminReply.self, from: line)
            #expect(ours == (try JSONDecoder().decode(AdminEnvelope<AdminReply>.self, from: Data(line))))
            #expect(ours.body == reply)
        }
    }
}

/// Arrays of arrays of any depth.
private struct AnyArray: Codable, Equatable {
    var children: [AnyArray]

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        children = []
        while !container.isAtEnd { children.append(try container.decode(AnyArray.self)) }
    }
}

/// Random and mangled lines: whatever the admin decoder accepts, Foundation accepts as the
/// same value, and it re-encodes to that value; whatever it refuses, it refuses with a
/// `DecodingError`, as malformed JSON or as Foundation does.
@Suite(.timeLimit(.minutes(1))) struct AdminDecoderFuzzTests {
    static let seeds = [
        #"{"type":"hello","protocol":1,"client":"flamectl"}"#, #"{"type":"subscribe","intervalMs":100,"snapshots":true,"events":true}"#,
        #"{"type":"scale","pool":"p","min":1,"max":2}"#, #"{"type":"logs","runner":"p-1","follow":true,"lines":50}"#,
        #"{"id":7,"type":"snapshot","protocol":1,"app":"a","pid":1,"uptimeSeconds":1.5,"pools":[]}"#,
        #"{"type":"event","kind":"runnerExited","pool":"p","runner":null,"message":"m\u00e9","time":1e9}"#,
    ]

    @Test func mutatedAndRandomLinesDecodeAsFoundationDoesAndRoundTrip() throws {
        var random = TestRandom.forTest()
        var decoded = 0
        for _ in 0..<6_000 {
            let seed = Array(Self.seeds.randomElement(using: &random)!.utf8)
            var line = seed
            switch Int.random(in: 0..<5, using: &random) {
            case 0:  // flip bytes
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    line[Int.random(in: 0..<line.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            case 1:  // truncate
                line = Array(line.prefix(Int.random(in: 0..<line.count, using: &random)))
            case 2:  // splice a piece of another seed in
                let other = Array(Self.seeds.randomElement(using: &random)!.utf8)
                let cut = Int.random(in: 0..<line.count, using: &random)
                line = Array(line[..<cut]) + other[Int.random(in: 0..<other.count, using: &random)...]
            case 3:  // noise
                line = (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default:  // as it is: every seed must decode as Foundation decodes it
                break
            }
            let count = try check(AdminRequest.self, line, seed: random.seedText) + check(AdminReply.self, line, seed: random.seedText)
            if line != seed { decoded += count }
        }
        // Enough mutated lines stay valid to exercise both sides (seeds as they are don't count).
        #expect(decoded > 100, "seed \(random.seedText)")
    }

    /// 1 when `line` decodes as a `Body`, 0 when it is refused; records an issue if Foundation
    /// disagrees or the value does not survive a re-encoding.
    private func check<Body: Codable & Sendable & Equatable>(_: Body.Type, _ line: [UInt8], seed: String) throws -> Int {
        let text = String(decoding: line, as: UTF8.self)
        let ours = Result { try AdminCodec.decode(Body.self, from: line) }
        let foundation = Result { try JSONDecoder().decode(AdminEnvelope<Body>.self, from: Data(line)) }
        switch ours {
        case .success(let envelope):
            #expect(try foundation.get() == envelope, "seed \(seed): \(text)")
            let again = try AdminCodec.line(envelope).dropLast()
            #expect(try AdminCodec.decode(Body.self, from: again) == envelope, "seed \(seed): \(text)")
            return 1
        case .failure(let error):
            #expect(error is DecodingError, "seed \(seed): \(text): \(error)")
            // Not JSON by RFC 8259 (where Foundation is laxer, see above), or JSON that
            // Foundation cannot decode as a message either.
            #expect(AdminCodec.isMalformedJSON(error) || foundation.error != nil, "seed \(seed): Foundation accepts \(text)")
            return 0
        }
    }
}
