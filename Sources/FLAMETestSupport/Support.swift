public import FLAME
import FLAMEChaos
public import Foundation
public import Testing

/// Helpers shared by the test targets.

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
    if try await poll(every: .milliseconds(20), within: timeout, until: condition) { return true }
    Issue.record("the condition did not hold within \(timeout)", sourceLocation: sourceLocation)
    return false
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

/// The repository's root (README.md, scripts/, Tests/): tests that read the repository's
/// own files find them from here.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Whether every test must run: `CI=true` (set by .ci/run). A test that needs a condition
/// (root, a release build) is skipped without it, except under CI, where it runs and fails
/// saying what it lacks (`try #require(condition, "…")` first thing in its body).
public let everyTestMustRun = ProcessInfo.processInfo.environment["CI"] == "true"

/// Whether this process runs as root (tests that act as another user need it).
public let runningAsRoot = geteuid() == 0
