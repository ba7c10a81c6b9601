import FLAMETestSupport
import Foundation
import Synchronization
import Testing

/// A tmux server of its own (its own socket), running one command in a window of a given size.
struct Tmux {
    let socket = "flame-top-test-\(UUID().uuidString.prefix(8))"
    let session = "ft"

    /// Runs a tmux command and returns its output. Spawned and reaped by hand: the first
    /// command forks the tmux server, which inherits whatever Foundation's `Process` uses to
    /// notice the exit, and `waitUntilExit` then never returns. A command that hangs is
    /// killed when the test's time limit cancels the test.
    @discardableResult
    func run(_ arguments: [String], detached: Bool = false) async throws -> String {
        let socket = self.socket
        let child = SpawnedChild()
        return try await withTaskCancellationHandler {
            try await spawnAndWait(arguments, socket: socket, detached: detached, child: child)
        } onCancel: {
            child.kill()
        }
    }

    private func spawnAndWait(_ arguments: [String], socket: String, detached: Bool, child: SpawnedChild) async throws -> String {
        try await onDedicatedThread {
            let output = "/tmp/\(socket)-\(UUID().uuidString.prefix(8)).out"
            defer { unlink(output) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            let words = ["tmux", "-L", socket] + arguments
            let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            defer { for pointer in argv { free(pointer) } }
            var pid = pid_t()
            let result = posix_spawnp(&pid, "tmux", &actions, nil, argv, environ)
            guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO) }
            child.spawned(pid)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            child.reaped()
            return detached ? "" : ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
    }

    /// Runs `command` in a fresh window. `NO_COLOR` is removed: `swift test` sets it, and
    /// the tmux server would hand it to flame-top, which then draws in monochrome.
    func start(_ command: String, width: Int = 120, height: Int = 40, term: String = "screen-256color") async throws {
        try await run(
            ["new-session", "-d", "-s", session, "-x", "\(width)", "-y", "\(height)", "env -u NO_COLOR LANG=C.UTF-8 TERM=\(term) \(command); echo EXITED=$?; sleep 30"],
            detached: true)
    }

    func keys(_ keys: String...) async throws {
        try await run(["send-keys", "-t", session] + keys)
    }

    /// A left click at a cell, as an xterm (X10) mouse press and release.
    func click(x: Int, y: Int) async throws {
        func encoded(_ value: Int) -> Character { Character(Unicode.Scalar(UInt8(32 + 1 + value))) }
        let cell = "\(encoded(x))\(encoded(y))"
        try await run(["send-keys", "-t", session, "-l", "\u{1b}[M \(cell)"])
        try await run(["send-keys", "-t", session, "-l", "\u{1b}[M#\(cell)"])
    }

    func screen() async throws -> String {
        try await run(["capture-pane", "-p", "-t", session])
    }

    /// The screen with its colours and attributes as escape sequences.
    func screenWithColours() async throws -> String {
        try await run(["capture-pane", "-p", "-e", "-t", session])
    }

    /// Waits until the screen contains `text`; returns the screen.
    @discardableResult
    func waitFor(_ text: String, within timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await waitUntil("screen never showed \(text)", within: timeout, sourceLocation: sourceLocation) { $0.contains(text) }
    }

    /// Waits until the screen no longer contains `text` (a dialog closed, say); returns the screen.
    @discardableResult
    func waitForAbsence(_ text: String, within timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await waitUntil("screen still showed \(text)", within: timeout, sourceLocation: sourceLocation) { !$0.contains(text) }
    }

    /// Waits until the screen satisfies `holds`; returns the screen, or records `failure`.
    @discardableResult
    func waitUntil(
        _ failure: String, within timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
        _ holds: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await screen()
            if holds(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(failure):\n\(last)", sourceLocation: sourceLocation)
        return last
    }

    func resize(width: Int, height: Int) async throws {
        try await run(["resize-window", "-t", session, "-x", "\(width)", "-y", "\(height)"])
    }

    /// Ends the pane's processes (the shell waits in `sleep` after flame-top) and the server.
    func kill() async {
        let panes = (try? await run(["list-panes", "-a", "-F", "#{pane_pid}"])) ?? ""
        for pid in panes.split(separator: "\n").compactMap({ Int32($0) }) {
            Foundation.kill(-pid, SIGKILL)  // the pane's process group
            Foundation.kill(pid, SIGKILL)
        }
        _ = try? await run(["kill-server"])
    }
}

/// The pid of a command `Tmux.run` waits for, so a cancelled test can kill it: before the
/// spawn (it is killed as soon as it exists) or while it runs; never once it is reaped.
final class SpawnedChild: Sendable {
    private let state = Mutex<(pid: pid_t, cancelled: Bool)>((0, false))

    func spawned(_ pid: pid_t) {
        let cancelled = state.withLock { state in
            state.pid = pid
            return state.cancelled
        }
        if cancelled { Foundation.kill(pid, SIGKILL) }
    }

    func reaped() { state.withLock { $0.pid = 0 } }

    func kill() {
        // Under the lock, so the pid cannot be reaped (and reused) in between.
        state.withLock { state in
            state.cancelled = true
            if state.pid > 0 { Foundation.kill(state.pid, SIGKILL) }
        }
    }
}

/// A flame-demo process serving its admin socket on a fixed path, so a restart reuses it.
final class DemoParent: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns this object, sequentially.
    let directory: String
    var socket: String { directory + "/demo.sock" }
    private var process: ChildProcess?

    init() {
        directory = "/tmp/flame-top-e2e-\(UUID().uuidString.prefix(8))"
        mkdir(directory, 0o700)
    }

    func start() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["FLAME_ADMIN_SOCKET"] = socket
        process = try ChildProcess(TestRunner.sibling("flame-demo"), ["--rate", "20"], environment: environment, output: .discarded)
        let path = socket
        await eventually { access(path, F_OK) == 0 }
    }

    /// The demo's process id (0 when it is not running).
    var pid: Int32 { process?.pid ?? 0 }

    func kill9() async throws {
        guard let process else { return }
        process.signal(SIGKILL)
        _ = await process.status()
        self.process = nil
    }

    func stop() async {
        if let process { await process.stop(with: SIGINT) }
        process = nil
        unlink(socket)
        rmdir(directory)
    }
}
