import Foundation

/// A reproducible random source for randomized tests (SplitMix64). Each test takes its seed
/// from `FLAME_TEST_SEED` when set, else a fresh one, and prints it: a failure names the seed
/// that replays it (`FLAME_TEST_SEED=0x… swift test --filter …`).
public struct TestRandom: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    /// A generator for the test named `test`, its seed printed.
    public static func forTest(_ test: String = #function) -> TestRandom {
        let given = ProcessInfo.processInfo.environment["FLAME_TEST_SEED"].flatMap { text in
            text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        let random = TestRandom(seed: given ?? UInt64.random(in: 0 ... .max))
        print("\(test): seed \(random.seedText) (FLAME_TEST_SEED=\(random.seedText) replays it)")
        return random
    }

    /// The seed as `0x…`, for failure messages.
    public var seedText: String { "0x" + String(seed, radix: 16) }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
