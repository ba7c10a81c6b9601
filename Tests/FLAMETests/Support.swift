@testable import FLAME
import Foundation
import Testing

/// The helper runner executable built next to the test bundle (see Package.swift).
enum TestRunner {
    static let executable: String = {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent("flame-test-runner").path
    }()

    static func backend(environment: [String: String] = [:]) -> LocalProcessBackend {
        LocalProcessBackend(executable: executable, arguments: [], environment: environment)
    }
}

/// Whether `pid` is a live (not zombie) process.
func processIsAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A pool of real runner processes, shut down (and checked for leftovers) after `body`.
func withPool<T>(
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
    static func ~= (code: FLAMEError.Code, error: any Error) -> Bool {
        (error as? FLAMEError)?.code == code
    }
}

/// The error `body` throws, or a recorded issue when it throws none.
func caught<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> (any Error)? {
    do {
        let value = try await body()
        Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
