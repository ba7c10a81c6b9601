import CFLAMEShims
import FLAMEWire
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One runner process of ``LocalProcessBackend``: its socket, pipes and pidfd, watched by
/// one I/O thread, and the ``RunnerLink`` the pool uses to talk to it.
final class LocalRunnerProcess: RunnerLink {
    private enum Phase {
        case awaitingHello(CheckedContinuation<any RunnerLink, any Error>?)
        case bootFailed(FLAMEError)
        case running
        case gone
    }

    let pid: Int32?
    let host = "local"
    private let socket: Int32
    private let writer: SocketWriter
    private let expected: ParentDescriptor
    private let spec: RunnerSpec
    private let events: any RunnerEventHandler
    private let logger: Logger
    private let phase = Mutex(Phase.awaitingHello(nil))
    /// True once the process is reaped; its pid may then belong to someone else.
    private let reaped = Mutex(false)

    private init(
        pid: Int32, socket: Int32, expected: ParentDescriptor, spec: RunnerSpec, events: any RunnerEventHandler, logger: Logger
    ) {
        self.pid = pid
        self.socket = socket
        self.writer = SocketWriter(fd: socket)
        self.expected = expected
        self.spec = spec
        self.events = events
        var logger = logger
        logger[metadataKey: "runner"] = "\(spec.runnerID)"
        logger[metadataKey: "pid"] = "\(pid)"
        self.logger = logger
    }

    // MARK: - Launch

    static func launch(
        executable: String, arguments: [String], environment: [String: String],
        expecting descriptor: ParentDescriptor, spec: RunnerSpec, events: any RunnerEventHandler, logger: Logger
    ) async throws -> LocalRunnerProcess {
        var sockets: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
            throw FLAMEError(.bootFailed, "socketpair failed: \(String(cString: strerror(errno)))")
        }
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard flame_pipe_cloexec(&stdoutPipe) == 0, flame_pipe_cloexec(&stderrPipe) == 0 else {
            let message = String(cString: strerror(errno))
            for fd in sockets + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw FLAMEError(.bootFailed, "pipe2 failed: \(message)")
        }
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let childEnds = (socket: sockets[1], stdout: stdoutPipe[1], stderr: stderrPipe[1])
        let (result, pid) = await Spawner.shared.run { () -> (Int32, Int32) in
            withCStrings(argv) { argvPointer in
                withCStrings(envp) { envpPointer in
                    var pid: pid_t = 0
                    let from: [Int32] = [childEnds.socket, childEnds.stdout, childEnds.stderr]
                    let to: [Int32] = [3, 1, 2]
                    let result = flame_spawn(&pid, executable, argvPointer, envpPointer, from, to, 3)
                    return (result, pid)
                }
            }
        }
        close(sockets[1])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(sockets[0])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw FLAMEError(.bootFailed, "cannot launch \(executable): \(String(cString: strerror(result)))")
        }
        let pidfd = flame_pidfd_open(pid)
        let process = LocalRunnerProcess(
            pid: pid, socket: sockets[0], expected: descriptor, spec: spec, events: events, logger: logger)
        let fds = (socket: sockets[0], stdout: stdoutPipe[0], stderr: stderrPipe[0], pidfd: pidfd)
        startThread { process.watch(fds) }
        return process
    }

    // MARK: - Boot

    /// Waits until the runner's hello is verified (then the runner is welcomed) or refused.
    func waitForHello() async throws -> any RunnerLink {
        try await withCheckedThrowingContinuation { continuation in
            let early: Result<any RunnerLink, any Error>? = phase.withLock { phase in
                switch phase {
                case .awaitingHello:
                    phase = .awaitingHello(continuation)
                    return nil
                case .bootFailed(let error): return .failure(error)
                case .running: return .success(self)
                case .gone: return .failure(FLAMEError(.bootFailed, "runner \(spec.runnerID) is gone"))
                }
            }
            if let early { continuation.resume(with: early) }
        }
    }

    /// The boot was abandoned (timeout or pool shutdown): kill the process now.
    func abortBoot() {
        failBoot(FLAMEError(.bootFailed, "boot of runner \(spec.runnerID) was aborted"))
        kill()
    }

    private func failBoot(_ error: FLAMEError) {
        let waiter = phase.withLock { phase -> CheckedContinuation<any RunnerLink, any Error>? in
            guard case .awaitingHello(let waiter) = phase else { return nil }
            phase = .bootFailed(error)
            return waiter
        }
        waiter?.resume(throwing: error)
    }

    private func verify(_ hello: RunnerHello) -> FLAMEError? {
        if hello.protocolVersion != runnerProtocolVersion {
            return FLAMEError(
                .buildMismatch, "runner \(spec.runnerID) speaks protocol \(hello.protocolVersion), parent \(runnerProtocolVersion)")
        }
        if hello.runnerID != expected.runnerID || hello.token != expected.token {
            return FLAMEError(.bootFailed, "runner \(spec.runnerID) failed authentication (wrong id or token)")
        }
        if hello.buildID != expected.buildID {
            return FLAMEError(
                .buildMismatch,
                "runner \(spec.runnerID) is build \(hello.buildID) but the parent expects \(expected.buildID); "
                    + "parent and runners must run the same executable")
        }
        return nil
    }

    // MARK: - RunnerLink

    func send(_ message: ParentMessage) {
        writer.send { message.encodeFrame(into: &$0) }
    }

    func stop() {
        send(.shutdown)
    }

    func kill() {
        reaped.withLock { reaped in
            if !reaped, let pid { _ = Glibc.kill(pid, SIGKILL) }
        }
    }

    // MARK: - I/O thread

    private func watch(_ fds: (socket: Int32, stdout: Int32, stderr: Int32, pidfd: Int32)) {
        var pollSet = [
            pollfd(fd: fds.socket, events: Int16(POLLIN), revents: 0),
            pollfd(fd: fds.stdout, events: Int16(POLLIN), revents: 0),
            pollfd(fd: fds.stderr, events: Int16(POLLIN), revents: 0),
            pollfd(fd: fds.pidfd, events: Int16(POLLIN), revents: 0),
        ]
        var decoder = FrameDecoder()
        var stdoutLines = LineSplitter()
        var stderrLines = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var exitStatus: Int32?

        func readSome(_ fd: Int32) -> ArraySlice<UInt8>? {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                return count > 0 ? buffer[..<count] : nil
            }
        }

        // Without a pidfd (kernels before 5.3) the exit is found by polling waitpid.
        let pollTimeout: Int32 = fds.pidfd < 0 ? 100 : -1
        while exitStatus == nil {
            let ready = poll(&pollSet, nfds_t(pollSet.count), pollTimeout)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if pollSet[0].revents != 0 {
                if let bytes = readSome(fds.socket) {
                    decoder.append(contentsOf: bytes)
                    if !drainFrames(&decoder) {
                        Glibc.shutdown(fds.socket, Int32(SHUT_RDWR))
                        pollSet[0].fd = -1
                    }
                } else {
                    pollSet[0].fd = -1  // runner closed its end; its exit follows
                }
            }
            for (index, stream) in [(1, OutputStream.stdout), (2, .stderr)] where pollSet[index].revents != 0 {
                if let bytes = readSome(pollSet[index].fd) {
                    for line in (stream == .stdout ? stdoutLines.feed(bytes) : stderrLines.feed(bytes)) {
                        events.output(line, stream: stream)
                    }
                } else {
                    pollSet[index].fd = -1
                }
            }
            if pollSet[3].revents != 0 || fds.pidfd < 0 {
                var status: Int32 = 0
                let result = waitpid(pid!, &status, WNOHANG)
                if result == pid { exitStatus = status }
            }
        }
        reaped.withLock { $0 = true }
        // Whatever the runner wrote last is still in the pipes.
        for (index, stream) in [(1, OutputStream.stdout), (2, .stderr)] where pollSet[index].fd >= 0 {
            while let bytes = readSome(pollSet[index].fd) {
                for line in (stream == .stdout ? stdoutLines.feed(bytes) : stderrLines.feed(bytes)) {
                    events.output(line, stream: stream)
                }
            }
        }
        for line in stdoutLines.flush() { events.output(line, stream: .stdout) }
        for line in stderrLines.flush() { events.output(line, stream: .stderr) }
        for fd in [fds.socket, fds.stdout, fds.stderr, fds.pidfd] where fd >= 0 { close(fd) }

        let exit = describeExit(exitStatus ?? -1)
        let reason = FLAMEError(.runnerExited, "runner \(spec.runnerID) \(exit)")
        let wasRunning = phase.withLock { phase -> Bool in
            defer { phase = .gone }
            if case .running = phase { return true }
            return false
        }
        if wasRunning {
            events.exited(reason)
        } else {
            failBoot(FLAMEError(.bootFailed, "runner \(spec.runnerID) \(exit) before it said hello"))
        }
    }

    /// Handles every complete frame; false when the peer sent something invalid.
    private func drainFrames(_ decoder: inout FrameDecoder) -> Bool {
        do {
            while let frame = try decoder.nextFrame() {
                let message = try RunnerMessage(frame: frame)
                let running = phase.withLock { phase -> Bool in
                    if case .running = phase { return true }
                    return false
                }
                if running {
                    events.received(message)
                    continue
                }
                guard case .hello(let hello) = message else {
                    let error = FLAMEError(.bootFailed, "runner \(spec.runnerID) sent \(message) before hello")
                    logger.error("runner refused", metadata: ["error": "\(error.message)"])
                    failBoot(error)
                    kill()
                    return false
                }
                if let error = verify(hello) {
                    logger.error("runner refused", metadata: ["error": "\(error.message)"])
                    failBoot(error)
                    kill()
                    return false
                }
                let intervalMilliseconds = UInt32(clamping: spec.heartbeatInterval.nanoseconds / 1_000_000)
                send(.welcome(heartbeatIntervalMilliseconds: max(intervalMilliseconds, 1)))
                let waiter = phase.withLock { phase -> CheckedContinuation<any RunnerLink, any Error>?? in
                    guard case .awaitingHello(let waiter) = phase else { return nil }
                    phase = .running
                    return .some(waiter)
                }
                if let waiter { waiter?.resume(returning: self) }
            }
            return true
        } catch {
            // Nothing else shares this connection: cut it off (the runner is killed, its calls
            // fail with its exit), and the pool carries on.
            let failure = FLAMEError(.bootFailed, "runner \(spec.runnerID) sent an invalid frame: \(error)")
            logger.error("invalid frame from runner; closing its connection", metadata: ["error": "\(error)"])
            failBoot(failure)
            kill()
            return false
        }
    }

    /// "exited with status N" or "was killed by signal N (NAME)", from a waitpid status.
    private func describeExit(_ status: Int32) -> String {
        let signal = status & 0x7f
        if status < 0 { return "exited (status unknown)" }
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal) (\(signalName(signal)))"
    }
}

/// Splits bytes into lines; keeps an unterminated tail (bounded at 64 KiB) for the next feed.
struct LineSplitter {
    private var tail: [UInt8] = []
    static let maximumLineLength = 64 * 1024

    mutating func feed(_ bytes: ArraySlice<UInt8>) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
            tail.append(contentsOf: bytes[start..<index])
            lines.append(String(decoding: tail, as: UTF8.self))
            tail.removeAll(keepingCapacity: true)
            start = index + 1
        }
        tail.append(contentsOf: bytes[start...])
        if tail.count > Self.maximumLineLength {
            lines.append(String(decoding: tail, as: UTF8.self))
            tail.removeAll(keepingCapacity: true)
        }
        return lines
    }

    mutating func flush() -> [String] {
        defer { tail.removeAll() }
        return tail.isEmpty ? [] : [String(decoding: tail, as: UTF8.self)]
    }
}

func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGKILL: "SIGKILL"
    case SIGTERM: "SIGTERM"
    case SIGSEGV: "SIGSEGV"
    case SIGABRT: "SIGABRT"
    case SIGILL: "SIGILL"
    case SIGTRAP: "SIGTRAP"
    case SIGBUS: "SIGBUS"
    case SIGINT: "SIGINT"
    case SIGHUP: "SIGHUP"
    case SIGPIPE: "SIGPIPE"
    case SIGFPE: "SIGFPE"
    default: "signal \(signal)"
    }
}

/// Calls `body` with a NULL-terminated C array of C strings that lives for the call.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
