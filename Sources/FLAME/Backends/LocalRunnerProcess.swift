import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One runner process on this machine: its pid, its output pipes (event-loop channels) and
/// its exit, reported once it is reaped and its output is read to the end.
package final class LocalRunnerProcess: LaunchedRunner {
    private struct State {
        /// Set by `tryReap` under this lock: the pid may then belong to someone else.
        var exitStatus: Int32?
        var openPipes = 0
        var pipes: [any Channel] = []
        var reported = false
    }
    package let pid: Int32?
    package let host: String? = "local"
    private let request: LaunchRequest
    private let state = Mutex(State())
    /// After the exit, how long the pipes may stay open (a grandchild that inherited them)
    /// before they are closed and the exit reported.
    static let outputGrace: Duration = .milliseconds(200)

    init(pid: Int32, request: LaunchRequest) {
        self.pid = pid
        self.request = request
    }

    package func kill() {
        signal(SIGKILL)
    }

    /// Sends `signal` to the process unless it has been reaped (its pid may be reused then).
    package func signal(_ signal: Int32) {
        state.withLock { state in
            if state.exitStatus == nil, let pid { _ = Glibc.kill(pid, signal) }
        }
    }

    /// Reads stdout and stderr line by line on the event loops until they close.
    func readOutput(stdout: Int32, stderr: Int32) async {
        for (fd, stream) in [(stdout, OutputStream.stdout), (stderr, .stderr)] {
            state.withLock { $0.openPipes += 1 }
            let output = request.output
            do {
                let channel = try await NIOPipeBootstrap(group: RunnerTransport.group)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                OutputLineHandler(stream: stream, output: output) { [self] in pipeClosed() })
                        }
                    }
                    .takingOwnershipOfDescriptor(input: fd)
                    .get()
                state.withLock { $0.pipes.append(channel) }
            } catch {
                pipeClosed()  // swift-nio closed the descriptor when it failed to adopt it
            }
        }
    }

    /// Reaps the process if it has exited (called by ``ProcessReaper``).
    func tryReap() -> Bool {
        let reaped = state.withLock { state -> Bool in
            guard state.exitStatus == nil, let pid else { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result < 0, errno == ECHILD {
                // Someone else reaped it (SIGCHLD ignored, a waitpid(-1) in the app): it is
                // gone, how is unknown.
                state.exitStatus = -1
                return true
            }
            guard result == pid else { return false }
            state.exitStatus = status
            return true
        }
        guard reaped else { return false }
        let pipes = state.withLock { $0.openPipes > 0 ? $0.pipes : [] }
        if pipes.isEmpty {
            reportIfDone()
        } else if let loop = pipes.first?.eventLoop {
            loop.scheduleTask(in: .nanoseconds(Self.outputGrace.nanoseconds)) {
                for pipe in pipes { pipe.close(promise: nil) }
            }
        }
        return true
    }

    private func pipeClosed() {
        state.withLock { $0.openPipes -= 1 }
        reportIfDone()
    }

    private func reportIfDone() {
        let status = state.withLock { state -> Int32? in
            guard !state.reported, state.openPipes == 0, let status = state.exitStatus else { return nil }
            state.reported = true
            state.pipes = []
            return status
        }
        if let status { request.ended(describeExit(status)) }
    }
}

/// Splits one output pipe into lines for the runner's output buffer.
private final class OutputLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let stream: OutputStream
    private let output: @Sendable (String, OutputStream) -> Void
    private let closed: () -> Void
    private var lines = LineSplitter()

    init(stream: OutputStream, output: @escaping @Sendable (String, OutputStream) -> Void, closed: @escaping () -> Void) {
        self.stream = stream
        self.output = output
        self.closed = closed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for line in lines.feed(buffer.readableBytesView) { output(line, stream) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for line in lines.flush() { output(line, stream) }
        closed()
        context.fireChannelInactive()
    }
}

/// Splits bytes into lines; keeps an unterminated tail (bounded at 64 KiB) for the next feed.
struct LineSplitter {
    private var tail: [UInt8] = []
    static let maximumLineLength = 64 * 1024

    mutating func feed<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [String] {
        var lines: [String] = []
        var start = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "\n") {
                tail.append(contentsOf: bytes[start..<index])
                lines.append(String(decoding: tail, as: UTF8.self))
                tail.removeAll(keepingCapacity: true)
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
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

/// "exited with status N" or "was killed by signal N (NAME)", from a waitpid status.
func describeExit(_ status: Int32) -> String {
    let signal = status & 0x7f
    if status < 0 { return "exited (status unknown)" }
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    return "was killed by signal \(signal) (\(signalName(signal)))"
}

package func signalName(_ signal: Int32) -> String {
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
