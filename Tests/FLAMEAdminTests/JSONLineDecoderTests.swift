import Foundation
import Testing

@testable import FLAMEAdminProtocol

/// The admin protocol's own JSON decoder must agree with Foundation's `JSONDecoder` on what
/// is valid and what it means, and refuse what Foundation refuses.
@Suite struct JSONLineDecoderTests {
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

    @Test(arguments: [
        "", " ", "{", "[1,]", #"{"a":}"#, #"{"a" 1}"#, "01", "1.", ".5", "-", "+1", "tru", "nul", "{} x", #"{"a":1,}"#,
        #""abc"#, #""\x""#, #""\u12""#, #""\u12g4""#, #""\"#, "\"a\u{01}b\"", "[1 2]", "{1:2}", "NaN", "Infinity",
    ])
    func refusesMalformedJSONAsFoundationDoes(text: String) {
        let (ours, foundation) = both([String: [String]].self, text)
        #expect(throws: (any Error).self) { try foundation.get() }
        #expect(throws: DecodingError.self) { try ours.get() }
    }

    @Test(arguments: [
        #","small":300"#, #","small":-1"#, #","integer":1.5"#, #","integer":"1""#, #","double":1e999"#,
        #","flag":1"#, #","text":null"#, #","list":{}"#, #","wide":18446744073709551616"#,
    ])
    func refusesValuesThatDoNotFitAsFoundationDoes(overrides: String) {
        let (ours, foundation) = both(Sample.self, sample(overrides))
        #expect(throws: (any Error).self) { try foundation.get() }
        #expect(throws: DecodingError.self) { try ours.get() }
    }

    @Test func refusesInvalidUTF8AndLoneSurrogates() {
        var bytes = Array(#"{"a":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONLineDecoder().decode([String: String].self, from: bytes) }
        bytes = Array(#"{"a":"\ud800x"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONLineDecoder().decode([String: String].self, from: bytes) }
    }

    @Test func errorsNameTheFieldLikeFoundationsDo() throws {
        let missing = Result { try AdminCodec.decode(AdminRequest.self, from: Array(#"{"type":"scale","min":1}"#.utf8)) }
        #expect(throws: DecodingError.self) { try missing.get() }
        if case .failure(let error) = missing { #expect(AdminCodec.describe(error) == #"missing field "pool""#) }

        let wrong = Result { try AdminCodec.decode(AdminRequest.self, from: Array(#"{"type":"scale","pool":"p","min":"3"}"#.utf8)) }
        if case .failure(let error) = wrong { #expect(AdminCodec.describe(error) == #"field "min" has the wrong type"#) }

        let broken = Result { try AdminCodec.decode(AdminRequest.self, from: Array(#"{"type":"#.utf8)) }
        if case .failure(let error) = broken { #expect(AdminCodec.describe(error).hasPrefix("malformed JSON")) }
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
        var random = SeededGenerator(seed: 0x5EED)
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
                bootLatency: .init(p50Us: 5, maxUs: 6), runners: runners)
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

/// SplitMix64: reproducible random test data.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random and mangled lines never crash the admin decoders: they decode or throw.
@Suite struct AdminDecoderFuzzTests {
    static let seeds = [
        #"{"type":"hello","protocol":1,"client":"flamectl"}"#, #"{"type":"subscribe","intervalMs":100,"snapshots":true,"events":true}"#,
        #"{"type":"scale","pool":"p","min":1,"max":2}"#, #"{"type":"logs","runner":"p-1","follow":true,"lines":50}"#,
        #"{"id":7,"type":"snapshot","protocol":1,"app":"a","pid":1,"uptimeSeconds":1.5,"pools":[]}"#,
        #"{"type":"event","kind":"runnerExited","pool":"p","runner":null,"message":"m\u00e9","time":1e9}"#,
    ]

    @Test func mutatedAndRandomLinesDecodeOrThrow() {
        var random = SeededGenerator(seed: 0xF022)
        var decoded = 0
        for round in 0..<6_000 {
            var line = Array(Self.seeds[round % Self.seeds.count].utf8)
            switch round % 4 {
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
            default:  // noise
                line = (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            if (try? AdminCodec.decode(AdminRequest.self, from: line)) != nil { decoded += 1 }
            if (try? AdminCodec.decode(AdminReply.self, from: line)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)  // some mutations stay valid: the decoders were really exercised
    }
}
