import CFLAMEShims
import FLAME
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A command the tests start: `posix_spawn`ed, its output on pipes (or discarded), waited
/// for with `waitpid` on a thread of its own.
///
/// Not Foundation's `Process`: under the whole suite its `waitUntilExit()` once never
/// returned although the child (scripts/slurm-up.sh) had exited and been reaped — the wake-up
/// of its run loop lost (swift-corelibs-foundation, Swift 6.3.1). The run sat at test planning,
/// where the Slurm suite's trait brings the cluster up, for as long as CI let it. Seen twice,
/// with a backtrace (gdb) the second time.
public final class ChildProcess: Sendable {
    /// What the command's standard output and error are connected to.
    public enum Output: Sendable {
        /// Pipes this object reads: ``waitForExit()`` returns what was printed.
        case captured
        /// stdout on a pipe read line by line (``readLines(_:)``), stderr discarded.
        case stdoutPiped
        case discarded
    }

    public let pid: Int32
    private let stdout: Int32?
    private let stderr: Int32?
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Starts `executable` (a path) with `arguments`; `environment` replaces this process's
    /// own when given, `directory` is the working directory. Standard input is /dev/null.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        output: Output = .captured
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func pipeFor(_ descriptor: Int32) throws -> Int32 {
            var ends: [Int32] = [0, 0]
            guard flame_pipe_cloexec(&ends) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            posix_spawn_file_actions_adddup2(&actions, ends[1], descriptor)
            parentEnds.append(ends[0])
            childEnds.append(ends[1])
            return ends[0]
        }
        switch output {
        case .captured:
            stdout = try pipeFor(1)
            stderr = try pipeFor(2)
        case .stdoutPiped:
            stdout = try pipeFor(1)
            stderr = nil
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        case .discarded:
            stdout = nil
            stderr = nil
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        if let directory { _ = flame_file_actions_addchdir(&actions, directory) }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }
        var spawned = pid_t()
        let result = envp.map { posix_spawn(&spawned, executable, &actions, nil, argv, $0) } ?? posix_spawn(&spawned, executable, &actions, nil, argv, environ)
        for end in childEnds { close(end) }
        guard result == 0 else {
            for end in parentEnds { close(end) }
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO)
        }
        let pid = spawned
        self.pid = pid
        startThread { [self] in
            // Seen exiting first (WNOWAIT), reaped under the lock that signal(_:) takes, so no
            // signal can reach a reaped pid that may be someone else's by then.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
            let (code, waiters) = state.withLock { state in
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                // As Foundation's terminationStatus: the exit status, or the killing signal.
                let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
                state.status = code
                defer { state.waiters = [] }
                return (code, state.waiters)
            }
            for waiter in waiters { waiter.resume(returning: code) }
        }
    }

    /// Whether the command is still running (not yet reaped).
    public var isRunning: Bool { state.withLock { $0.status == nil } }

    /// Sends `signal` unless the command was reaped already.
    public func signal(_ signal: Int32) {
        state.withLock { if $0.status == nil { _ = kill(pid, signal) } }
    }

    /// Waits for the command to exit and returns its status (or the signal that killed it).
    public func status() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Reads the captured output to its end (both pipes at once, so neither can fill while
    /// the other is read), then waits for the exit.
    public func waitForExit() async throws -> CommandResult {
        try await onDedicatedThread { self.waitForExitBlocking() }
    }

    /// ``waitForExit()`` blocking the calling thread: never on one of Swift concurrency's
    /// cooperative threads (a static initializer run once, say, is fine).
    public func waitForExitBlocking() -> CommandResult {
        let err = Mutex([UInt8]())
        let stderrRead = DispatchSemaphore(value: 0)
        startThread { [stderr] in
            if let stderr { err.withLock { $0 = Self.readToEnd(stderr) } }
            stderrRead.signal()
        }
        let out = stdout.map(Self.readToEnd) ?? []
        stderrRead.wait()
        // The pipes end when the command does (or when it closed them: then poll its exit).
        while isRunning { usleep(2_000) }
        return CommandResult(
            status: state.withLock { $0.status } ?? -1, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err.withLock { $0 }, as: UTF8.self))
    }

    /// Calls `chunk` on a thread of its own with each piece of stdout as it arrives, and with
    /// an empty array at its end (``Output/stdoutPiped``).
    public func readOutput(_ chunk: @escaping @Sendable ([UInt8]) -> Void) {
        guard let stdout else { return chunk([]) }
        startThread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(stdout, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                chunk(Array(buffer[..<count]))
            }
            close(stdout)
            chunk([])
        }
    }

    private static func readToEnd(_ descriptor: Int32) -> [UInt8] {
        defer { close(descriptor) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return data }
            data += buffer[..<count]
        }
    }

    /// Sends `signal` and waits for the exit; a command still running after `grace` is killed
    /// (SIGKILL), so stopping never hangs a test.
    public func stop(with signal: Int32, grace: Duration = .seconds(5)) async {
        guard isRunning else { return }
        self.signal(signal)
        let enforcer = Task {
            try await Task.sleep(for: grace)
            self.signal(SIGKILL)
        }
        _ = await status()
        enforcer.cancel()
    }
}
