public import FLAME
import FLAMEChaos
public import Foundation
public import Testing

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

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
public func eventually(within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A pool of real runner processes, shut down (and checked for leftovers) after `body`.
public func withPool<T>(
    _ configuration: PoolConfiguration, environment: [String: String] = [:],
    _ body: (Pool) async throws -> T
) async throws -> T {
    let pool = try await Pool(configuration, backend: TestRunner.backend(environment: environment))
    do {
        let result = try await body(pool)
        await pool.shutdown()
        return result
    } catch {
        await pool.shutdown()
        throw error
    }
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
/// output. `environment` replaces the test process's own when given.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> CommandResult {
    try await onDedicatedThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
