public import FLAME
import FLAMEChaos
public import Foundation
public import Testing
import Synchronization

/// Helpers shared by the test targets.

/// The helper runner executable built next to the test bundle (see Package.swift).
public enum TestRunner {
    public static let executable: String = {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent("flame-test-runner").path
    }()

    /// Executables built next to the test bundle (flamectl, flame-demo).
    public static func sibling(_ name: String) -> String {
        URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }

    public static func backend(environment: [String: String] = [:]) -> LocalProcessBackend {
        LocalProcessBackend(executable: executable, arguments: [], environment: environment)
    }
}

/// Whether `pid` is a live (not zombie) process.
public func processIsAlive(_ pid: Int32) -> Bool { ProcessProbe.isAlive(pid) }

/// Polls `condition` every 20 ms until it holds or `timeout` passes. A condition that never
/// holds fails the test at the caller's line (a timeout never passes silently); the result
/// says whether it held, for a caller that goes on differently.
@discardableResult
public func eventually(
    within timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    if try await condition() { return true }
    Issue.record("the condition did not hold within \(timeout)", sourceLocation: sourceLocation)
    return false
}

/// A backend that launches through `base` and remembers the pid of every runner it booted,
/// so a test can check afterwards that none is left.
public final class RecordingBackend: Backend {
    public let base: any Backend
    private let recorded = Mutex<[Int32]>([])

    public init(_ base: any Backend) { self.base = base }

    /// The pids of every runner booted so far, in boot order.
    public var pids: [Int32] { recorded.withLock { $0 } }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        let link = try await base.boot(spec, events: events)
        if let pid = link.pid { recorded.withLock { $0.append(pid) } }
        return link
    }
}

/// A pool of real runner processes, shut down after `body`; then every runner it booted must
/// be gone: no runner listed, and no process of them left as a child of this one (running or
/// an unreaped zombie).
public func withPool<T>(
    _ configuration: PoolConfiguration, environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Pool) async throws -> T
) async throws -> T {
    let backend = RecordingBackend(TestRunner.backend(environment: environment))
    let pool = try await Pool(configuration, backend: backend)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(pool))
    } catch {
        result = .failure(error)
    }
    await pool.shutdown()
    let listed = await pool.status().runners.map(\.id)
    if !listed.isEmpty { Issue.record("runners still listed after shutdown: \(listed)", sourceLocation: sourceLocation) }
    let leftovers = ProcessProbe.children().intersection(backend.pids)
    if !leftovers.isEmpty {
        Issue.record("runner processes left after shutdown: \(leftovers.sorted())", sourceLocation: sourceLocation)
    }
    return try result.get()
}

extension FLAMEError.Code {
    public static func ~= (code: FLAMEError.Code, error: any Error) -> Bool {
        (error as? FLAMEError)?.code == code
    }
}

/// The error `body` throws, or a recorded issue when it throws none.
public func caught<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> (any Error)? {
    do {
        let value = try await body()
        Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Runs blocking work (waiting for a child process, reading its pipes) on a thread of its
/// own. Blocking one of the cooperative pool's threads (one per core) can starve the very
/// tasks the blocked work waits for — the admin server's request handlers, say.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        startThread { continuation.resume(with: Result { try body() }) }
    }
}

/// How a command run to completion exited and what it printed.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` to completion on a thread of its own, capturing its
/// output. `environment` replaces the test process's own when given. A command that hangs
/// fails the test instead of stalling it: after `timeout`, or when the test's task is
/// cancelled (its time limit), the command is killed and what it printed is returned.
public func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(60),
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let pid = process.processIdentifier
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        kill(pid, SIGKILL)
        Issue.record("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); killed it", sourceLocation: sourceLocation)
    }
    defer { watchdog.cancel() }
    return try await withTaskCancellationHandler {
        try await onDedicatedThread {
            // stderr on a thread of its own, so that neither pipe can fill while the other is read.
            let stderr = Mutex(Data())
            let stderrRead = DispatchSemaphore(value: 0)
            startThread {
                stderr.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
                stderrRead.signal()
            }
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            stderrRead.wait()
            process.waitUntilExit()
            return CommandResult(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr.withLock { $0 }, as: UTF8.self))
        }
    } onCancel: {
        kill(pid, SIGKILL)
    }
}

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

/// A command that keeps running while the test reads its output (`flamectl events`, say):
/// its stdout is collected on a thread of its own, line by line.
public final class StreamingCommand: Sendable {
    private let process: Process
    private let output = Mutex<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))

    public init(_ executable: String, _ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let reading = pipe.fileHandleForReading
        startThread { [self] in
            while true {
                let data = reading.availableData
                let ended = data.isEmpty
                self.output.withLock { output in
                    // Bytes until a newline, so a character split across reads stays whole.
                    output.partial += data
                    var pieces = output.partial.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    output.partial = Array(pieces.removeLast())
                    output.lines += pieces.map { String(decoding: $0, as: UTF8.self) }
                    output.ended = ended
                }
                if ended { return }
            }
        }
    }

    /// The complete lines printed so far.
    public var lines: [String] { output.withLock { $0.lines } }

    /// Waits until a printed line satisfies `matches` and returns it; records an issue and
    /// returns nil when none has after `timeout`, or when the command ended without one.
    @discardableResult
    public func waitForLine(
        within timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
        where matches: @Sendable (String) -> Bool
    ) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (found, ended) = output.withLock { ($0.lines.first(where: matches), $0.ended) }
            if let found { return found }
            if ended || ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no such line within \(timeout); printed:\n\(lines.joined(separator: "\n"))", sourceLocation: sourceLocation)
        return nil
    }

    /// Ends the command (SIGTERM) and waits for it.
    public func stop() async {
        process.terminate()
        _ = try? await onDedicatedThread { [process] in process.waitUntilExit() }
    }
}

/// Whether every test must run: `CI=true` (set by .ci/run). A test that needs a condition
/// (root, a release build) is skipped without it, except under CI, where it runs and fails
/// saying what it lacks (`try #require(condition, "…")` first thing in its body).
public let everyTestMustRun = ProcessInfo.processInfo.environment["CI"] == "true"

/// Whether this process runs as root (tests that act as another user need it).
public let runningAsRoot = geteuid() == 0
