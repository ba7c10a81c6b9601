import FLAMETestSupport
import FLAMEWire
import Testing

@Suite(.timeLimit(.minutes(1))) struct CompactCodecTests {
    struct Inner: Codable, Equatable {
        var name: String
        var score: Double?
    }

    enum Shape: Codable, Equatable {
        case circle(radius: Float)
        case polygon([Int16])
        case none
    }

    struct Everything: Codable, Equatable {
        var bool = true
        var int = Int.min
        var int8: Int8 = -8
        var int16: Int16 = .max
        var int32: Int32 = -32
        var int64 = Int64.max
        var uint = UInt.max
        var uint8: UInt8 = 200
        var uint16: UInt16 = 16
        var uint32: UInt32 = .max
        var uint64 = UInt64.max
        var float: Float = -1.5
        var double = Double.pi
        var string = "héllo, 世界 ✓"
        var empty = ""
        var bytes: [UInt8] = [0, 1, 2, 255]
        var optionalPresent: Int? = 5
        var optionalAbsent: String?
        var nested = Inner(name: "n", score: nil)
        var list = [Inner(name: "a", score: 1), Inner(name: "b", score: nil)]
        var optionals: [Int?] = [1, nil, 3]
        var dictionary = ["x": [1, 2], "y": []]
        var intKeys = [3: "three", 1: "one"]
        var shapes: [Shape] = [.circle(radius: 2), .polygon([1, -2, 3]), .none]
        var set: Set<String> = ["a", "b"]
    }

    @Test func everyKindOfValueRoundTrips() throws {
        let value = Everything()
        let bytes = try CompactEncoder().encode(value)
        #expect(try CompactDecoder().decode(Everything.self, from: bytes) == value)
    }

    @Test func topLevelPrimitivesAndBlobsRoundTrip() throws {
        #expect(try CompactDecoder().decode(Int.self, from: CompactEncoder().encode(42)) == 42)
        #expect(try CompactDecoder().decode(Bool.self, from: CompactEncoder().encode(true)) == true)
        #expect(try CompactDecoder().decode(String?.self, from: CompactEncoder().encode(String?.none)) == nil)
        let blob = [UInt8](repeating: 9, count: 1 << 20)
        let encoded = try CompactEncoder().encode(blob)
        #expect(encoded.count < blob.count + 16)  // one blob, not a million nodes
        #expect(try CompactDecoder().decode([UInt8].self, from: encoded) == blob)
    }

    @Test func keysMayBeReadInAnyOrderAndUnknownOnesAreSkipped() throws {
        struct Written: Codable { var a = 1, b = "two", c = [3] }
        struct ReadBackwards: Decodable, Equatable {
            var c: [Int], a: Int
            enum CodingKeys: CodingKey { case a, c }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                c = try container.decode([Int].self, forKey: .c)
                a = try container.decode(Int.self, forKey: .a)
            }
        }
        let decoded = try CompactDecoder().decode(ReadBackwards.self, from: CompactEncoder().encode(Written()))
        #expect(decoded.a == 1 && decoded.c == [3])
    }

    @Test func missingKeysAndWrongTypesAreDecodingErrors() throws {
        struct Small: Codable { var a = 1 }
        struct Big: Codable { var a: Int, b: Int }
        let bytes = try CompactEncoder().encode(Small())
        #expect(throws: DecodingError.self) { try CompactDecoder().decode(Big.self, from: bytes) }
        #expect(throws: DecodingError.self) { try CompactDecoder().decode(String.self, from: bytes) }
        #expect(throws: DecodingError.self) { try CompactDecoder().decode(Int.self, from: CompactEncoder().encode(Int8(1))) }
    }

    @Test func everyTruncationIsRejected() throws {
        let bytes = try CompactEncoder().encode(Everything())
        for cut in stride(from: 0, to: bytes.count, by: 3) {
            #expect(throws: (any Error).self) { try CompactDecoder().decode(Everything.self, from: bytes.prefix(cut)) }
        }
    }

    /// Mutated encodings: what decodes re-encodes to bytes that decode to the same value; what
    /// fails, fails with a `DecodingError`. (A value the mutation gave a NaN is not equal to
    /// itself and is only re-decoded; dictionaries and sets rule out comparing bytes.)
    @Test func mutatedInputDecodesToValuesThatRoundTripOrIsADecodingError() throws {
        let bytes = try CompactEncoder().encode(Everything())
        var random = TestRandom.forTest()
        var decoded = 0
        for _ in 0..<5_000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = .random(in: 0...255, using: &random)
            }
            let value: Everything
            do {
                value = try CompactDecoder().decode(Everything.self, from: mutated)
            } catch {
                #expect(error is DecodingError, "seed \(random.seedText): \(error)")
                continue
            }
            let again = try CompactDecoder().decode(Everything.self, from: CompactEncoder().encode(value))
            guard value == value else { continue }
            decoded += 1
            #expect(again == value, "seed \(random.seedText)")
        }
        #expect(decoded > 100, "seed \(random.seedText)")
    }

    @Test func hostileNestingIsRefusedAtTheDepthLimit() throws {
        indirect enum Deep: Codable { case leaf, node(Deep) }
        var value = Deep.leaf
        for _ in 0..<300 { value = .node(value) }
        let bytes = try CompactEncoder().encode(value)
        var decoder = CompactDecoder()
        decoder.maximumDepth = 100
        #expect(throws: DecodingError.self) { try decoder.decode(Deep.self, from: bytes) }
        decoder.maximumDepth = 2000
        _ = try decoder.decode(Deep.self, from: bytes)
    }
}
