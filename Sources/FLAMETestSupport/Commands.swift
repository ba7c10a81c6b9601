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
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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

/// A command that keeps running while the test reads its output (`flamectl events`, say):
/// its stdout is collected on a thread of its own, line by line.
public final class StreamingCommand: Sendable {
    private let process: Process
    private let output = Mutex<(lines: [String], partial: [UInt8], ended: Bool)>(([], [], false))

    /// `environment` replaces the test process's own when given; `directory` is the working
    /// directory.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
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
        await stopProcess(process, with: SIGTERM)
    }

    /// The command's process id.
    public var processIdentifier: Int32 { process.processIdentifier }
}

/// Sends `signal` to `process` and waits for it to exit; one that has not after `grace` is
/// killed (SIGKILL), so stopping never hangs a test.
public func stopProcess(_ process: Process, with signal: Int32, grace: Duration = .seconds(5)) async {
    let pid = process.processIdentifier
    guard process.isRunning else {
        _ = try? await onDedicatedThread { process.waitUntilExit() }
        return
    }
    kill(pid, signal)
    let enforcer = Task {
        try await Task.sleep(for: grace)
        kill(pid, SIGKILL)
    }
    _ = try? await onDedicatedThread { process.waitUntilExit() }
    enforcer.cancel()
}
