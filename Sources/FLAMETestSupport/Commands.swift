import FLAME
public import Foundation
public import Testing
import Synchronization

// Running commands from tests: to completion, or read while they run; never hanging a test.

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
    _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
    timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation
) async throws -> CommandResult {
    let child = try ChildProcess(executable, arguments, environment: environment, directory: directory)
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        child.signal(SIGKILL)
        Issue.record("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); killed it", sourceLocation: sourceLocation)
    }
    defer { watchdog.cancel() }
    return try await withTaskCancellationHandler {
        try await child.waitForExit()
    } onCancel: {
        child.signal(SIGKILL)
    }
}

/// A command that keeps running while the test reads its output (`flamectl events`, say):
/// its stdout is collected on a thread of its own, line by line.
public final class StreamingCommand: Sendable {
    private let process: ChildProcess
    private let output = Mutex<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))

    /// `environment` replaces the test process's own when given; `directory` is the working
    /// directory.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws {
        process = try ChildProcess(executable, arguments, environment: environment, directory: directory, output: .stdoutPiped)
        process.readOutput { [self] data in
            self.output.withLock { output in
                // Bytes until a newline, so a character split across reads stays whole.
                output.partial += data
                var pieces = output.partial.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                output.partial = Array(pieces.removeLast())
                output.lines += pieces.map { String(decoding: $0, as: UTF8.self) }
                output.ended = data.isEmpty
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

    /// Repeats `action` until a printed line satisfies `matches`, then returns that line: for
    /// a stream whose start the test cannot see, act until the stream shows the act. Records
    /// an issue and returns nil when no such line came within `timeout`.
    @discardableResult
    public func waitForLine(
        within timeout: Duration = .seconds(15), repeating action: () async throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation, where matches: @Sendable (String) -> Bool
    ) async rethrows -> String? {
        let deadline = ContinuousClock.now + timeout
        while output.withLock({ $0.lines.contains(where: matches) }) == false, ContinuousClock.now < deadline {
            try await action()
        }
        return await waitForLine(within: .zero, sourceLocation: sourceLocation, where: matches)
    }

    /// Waits until the command exits by itself; false when it still runs after `timeout`.
    public func waitForExit(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// Ends the command (SIGTERM) and waits for it.
    public func stop() async {
        await process.stop(with: SIGTERM)
    }

    /// The command's process id.
    public var processIdentifier: Int32 { process.pid }
}
