public import FLAME
import FLAMEWire
#if canImport(Glibc)
import Glibc
#endif

// Jobs the integration tests send to real runner processes. They live in a library so that
// the test bundle (the parent) and flame-test-runner (the runner) resolve the same types.

/// Returns its input: the trivial job of round-trip measurements.
public struct Echo: Job {
    public var value: Int
    public init(_ value: Int) { self.value = value }
    public func run() async throws -> Int { value }
}

/// Returns a byte blob of the requested size (or echoes one), for payload tests.
public struct Blob: Job {
    public var bytes: [UInt8]
    public var replySize: Int
    public init(bytes: [UInt8], replySize: Int) {
        self.bytes = bytes
        self.replySize = replySize
    }
    public func run() async throws -> [UInt8] { replySize < 0 ? bytes : [UInt8](repeating: 7, count: replySize) }
}

/// The runner's pid, so tests can find, signal and inspect the process.
public struct WhoAmI: Job {
    public init() {}
    public func run() async throws -> Int32 { getpid() }
}

/// Sleeps (cooperatively: cancellation ends it) and returns how long it slept.
public struct Sleep: Job {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return milliseconds
    }
}

/// Keeps one core busy for `milliseconds` (checking for cancellation between slices) and
/// returns how many slices it ran: a runner whose CPU use the heartbeat must show.
public struct Spin: Job {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() async throws -> Int {
        let end = ContinuousClock.now + .milliseconds(milliseconds)
        var slices = 0
        var value: UInt64 = 1
        while ContinuousClock.now < end {
            for _ in 0..<10_000 { value = value &* 6_364_136_223_846_793_005 &+ 1 }
            slices += 1
            try Task.checkCancellation()
        }
        return value == 0 ? -slices : slices
    }
}

/// Blocks its thread and ignores cancellation: the job a runner must be killed for.
public struct Stubborn: Job {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() async throws -> Int {
        usleep(UInt32(milliseconds) * 1000)
        return milliseconds
    }
}

/// Exits the runner process with a status.
public struct ExitProcess: Job {
    public var status: Int32
    public init(status: Int32) { self.status = status }
    public func run() async throws -> Int { exit(status) }
}

/// Prints lines to stdout and stderr, then returns.
public struct Shout: Job {
    public var lines: [String]
    public init(lines: [String]) { self.lines = lines }
    public func run() async throws -> Int {
        for line in lines {
            writeLine(line, to: 1)
            writeLine("err: \(line)", to: 2)
        }
        return lines.count
    }
}

/// A `Codable` error, which reaches the caller as itself.
public struct QuotaExceeded: Error, Codable, Equatable {
    public var limit: Int
    public init(limit: Int) { self.limit = limit }
}

/// A plain error, which reaches the caller as its type name and description.
public struct PlainFailure: Error, CustomStringConvertible {
    public var description: String { "plain failure happened" }
}

/// Throws `QuotaExceeded` or `PlainFailure`.
public struct Fail: Job {
    public var codable: Bool
    public init(codable: Bool) { self.codable = codable }
    public func run() async throws -> Int {
        if codable { throw QuotaExceeded(limit: 42) }
        throw PlainFailure()
    }
}

/// Namespaced and generic job types, to prove dispatch beyond top-level structs.
public enum Outer {
    public struct Nested: Job {
        public var text: String
        public init(text: String) { self.text = text }
        public func run() async throws -> String { text.uppercased() }
    }
}

public struct Wrap<Value: Codable & Sendable>: Job {
    public var value: Value
    public init(_ value: Value) { self.value = value }
    public func run() async throws -> [Value] { [value, value] }
}

/// The app resource the runner's main installs before bootstrap.
public enum GreetingKey: ResourceKey {
    public typealias Value = String
}

/// Reads the app resource on the runner.
public struct ReadGreeting: Job {
    public init() {}
    public func run() async throws -> String { try Resources.current.require(GreetingKey.self) }
}

/// A child service that counts ticks until stopped; `Ticks` reads the count on its runner.
public struct Ticker: ChildService {
    public init() {}
    public func run() async throws {
        while true {
            TickCounter.increment()
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

public struct Ticks: Job {
    public init() {}
    public func run() async throws -> Int { TickCounter.value }
}

/// Whether the runner lets itself be shut down for idleness: reads a file the test controls.
public struct IdleIfFileExists: Job {
    public var path: String
    public init(path: String) { self.path = path }
    public func run() async throws -> Bool { access(path, F_OK) == 0 }
}

/// Keeps its runner busy until a file the test controls exists (a gate no machine's load can
/// open early or late).
public struct WaitUntilFileExists: Job {
    public var path: String
    public init(path: String) { self.path = path }
    public func run() async throws -> Bool {
        while access(path, F_OK) != 0 { try await Task.sleep(for: .milliseconds(10)) }
        return true
    }
}

/// The runner's pid and how many sockets it holds open (from /proc/self/fd).
public struct OpenSockets: Job {
    public var holdMilliseconds: Int
    public init(holdMilliseconds: Int) { self.holdMilliseconds = holdMilliseconds }
    public func run() async throws -> [Int] {
        try await Task.sleep(for: .milliseconds(holdMilliseconds))
        var sockets = 0
        if let directory = opendir("/proc/self/fd") {
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                var target = [CChar](repeating: 0, count: 256)
                let length = readlink("/proc/self/fd/" + name, &target, 255)
                if length > 0, String(cString: target).hasPrefix("socket:") { sockets += 1 }
            }
        }
        return [Int(getpid()), sockets]
    }
}

enum TickCounter {
    nonisolated(unsafe) private static var count = 0
    private static let lock = NSLockish()
    static func increment() { lock.withLock { count += 1 } }
    static var value: Int { lock.withLock { count } }
}

/// A tiny pthread mutex so this file needs nothing but Glibc.
final class NSLockish: @unchecked Sendable {
    // @unchecked: the pthread mutex is only touched through lock/unlock below.
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

private func writeLine(_ text: String, to fd: Int32) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// Rejects a negative value when decoded, so the runner fails to decode what the parent
/// encoded without complaint.
public struct Picky: Job {
    public var value: Int
    public init(value: Int) { self.value = value }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        value = try container.decode(Int.self, forKey: .value)
        if value < 0 { throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "negative") }
    }
    public func run() async throws -> Int { value }
}

/// Writes bytes straight onto the runner's channel to the parent (fd 3): a runner gone
/// rogue. `oversized` announces a frame far beyond the limit; otherwise an unknown tag.
public struct CorruptChannel: Job {
    public var oversized: Bool
    public init(oversized: Bool) { self.oversized = oversized }
    public func run() async throws -> Int {
        let bytes: [UInt8] = oversized ? [0x7f, 0xff, 0xff, 0xff, 1] : [0, 0, 0, 1, 250]
        _ = bytes.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
        try await Task.sleep(for: .seconds(10))
        return 0
    }
}

/// Reports whether the code runs inside a runner, and the min of a pool created there.
public struct InsideRunner: Job {
    public init() {}
    public func run() async throws -> Bool { FLAME.isRunner }
}

/// Creates a file after a short pause: a side effect a test can see after the call.
public struct Touch: Job {
    public var path: String
    public init(path: String) { self.path = path }
    public func run() async throws -> Bool {
        try await Task.sleep(for: .milliseconds(100))
        let fd = open(path, O_CREAT | O_WRONLY, 0o644)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }
}

/// Creates a pool inside the runner asking for `min` 2 and reports the `min` it got (0: a
/// pool inside a runner never boots runners on its own).
public struct NestedPoolMin: Job {
    public init() {}
    public func run() async throws -> Int {
        let pool = try await Pool(PoolConfiguration(name: "nested", min: 2, max: 2), backend: InProcessBackend())
        let min = await pool.status().min
        let runners = await pool.status().runners.count
        await pool.shutdown()
        return min * 100 + runners
    }
}

/// Prints with Swift's `print` (C stdio, block-buffered on a pipe unless the runner fixes it)
/// and stays running, so the line must arrive while the runner lives.
public struct PrintAndWait: Job {
    public var text: String
    public init(text: String) { self.text = text }
    public func run() async throws -> Int {
        print(text)
        return 0
    }
}

/// Returns its value after sleeping (cooperatively): the steady load of the chaos suite,
/// where a wrong answer would show as another caller's value.
public struct SlowEcho: Job {
    public var value: Int
    public var milliseconds: Int
    public init(_ value: Int, milliseconds: Int) {
        self.value = value
        self.milliseconds = milliseconds
    }
    public func run() async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return value
    }
}

/// Stops the runner with a Swift runtime trap (`fatalError`).
public struct Crash: Job {
    public init() {}
    public func run() async throws -> Int { fatalError("Crash job: deliberate trap") }
}

/// Writes `lines` lines of 100 bytes to stdout as fast as it can, then returns.
public struct Flood: Job {
    public var lines: Int
    public init(lines: Int) { self.lines = lines }
    public func run() async throws -> Int {
        let line = String(repeating: "x", count: 99)
        for _ in 0..<lines { writeLine(line, to: 1) }
        return lines
    }
}

/// Nested as deep as asked: a hostile payload for the decoder's depth limit.
public indirect enum Tree: Codable, Sendable {
    case leaf
    case node(Tree)

    public static func depth(_ depth: Int) -> Tree {
        (0..<depth).reduce(Tree.leaf) { tree, _ in .node(tree) }
    }
}

/// Carries a tree; returns 1.
public struct Deep: Job {
    public var tree: Tree
    public init(depth: Int) { tree = .depth(depth) }
    public func run() async throws -> Int { 1 }
}

/// A misbehaving runner: writes result frames for call ids it was never given (each says
/// `value`) straight onto its connection, and a heartbeat, then returns `value` itself.
public struct ForgeResults: Job {
    public var firstID: UInt64
    public var lastID: UInt64
    public var value: Int
    public init(ids: ClosedRange<UInt64>, value: Int) {
        firstID = ids.lowerBound
        lastID = ids.upperBound
        self.value = value
    }
    public func run() async throws -> Int {
        var frames: [UInt8] = []
        let payload = try CompactEncoder().encode(value)
        for id in firstID...lastID { RunnerMessage.result(callID: id, .success(payload)).encodeFrame(into: &frames) }
        RunnerMessage.heartbeat(cpuNanoseconds: 0, residentBytes: 0).encodeFrame(into: &frames)
        _ = frames.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }  // fd 3: the runner's connection
        return value
    }
}

/// The name of the thread the job runs on (`flame-reader` for the runner's reader).
public struct ThreadName: Job {
    public init() {}
    public func run() async throws -> String { currentThreadName() }
}

/// The same, as an ``InlineJob``: it must run on the reader thread.
public struct InlineThreadName: InlineJob {
    public init() {}
    public func run() async throws -> String { currentThreadName() }
}

/// An inline job that suspends (a short sleep): the thread it starts on, and the one it
/// goes on on once the timer resumes it (the cooperative pool).
public struct InlineNap: InlineJob {
    public var milliseconds: Int
    public init(milliseconds: Int) { self.milliseconds = milliseconds }
    public func run() async throws -> [String] {
        let before = currentThreadName()
        try await Task.sleep(for: .milliseconds(milliseconds))
        return [before, currentThreadName()]
    }
}

/// An inline job that yields until a file exists (another call creates it): it must not keep
/// the reader, or that other call is never read.
public struct InlineYieldsUntilFileExists: InlineJob {
    public var path: String
    public init(path: String) { self.path = path }
    public func run() async throws -> Bool {
        while access(path, F_OK) != 0 {
            try Task.checkCancellation()
            await Task.yield()
        }
        return true
    }
}

/// An inline job that starts child tasks: they run in parallel on the pool, not one after
/// another on the reader. Returns the threads they ran on.
public struct InlineWithChildren: InlineJob {
    public init() {}
    public func run() async throws -> [String] {
        async let first = currentThreadName()
        async let second = currentThreadName()
        return await [first, second]
    }
}

/// The calling thread's name, from /proc/thread-self/comm.
func currentThreadName() -> String {
    let fd = open("/proc/thread-self/comm", O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 32)
    let count = read(fd, &bytes, bytes.count)
    return count > 0 ? String(decoding: bytes[..<count], as: UTF8.self).trimmingSuffix("\n") : ""
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
