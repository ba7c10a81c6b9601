import CFLAMEShims
import FLAME
import FLAMEWire
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// The swarm: thousands of runners for one parent without thousands of processes. Each
// `flame-bench swarm-host` process simulates many runners: every one its own TCP
// connection to the parent's listener that speaks the real protocol — hello with its token
// and build identity, heartbeats, and the real jobs, run by the real job codec. The parent
// is a real pool on a real listener; only the runners share processes.

/// The parent's side: a launcher that hands each runner to one of a few swarm hosts.
final class SwarmLauncher: RunnerLauncher {
    private final class Host: Sendable {
        let pid: Int32
        /// The parent's end of the control socket: "launch HEX" and "kill ID" lines go down,
        /// "ended ID HOW" lines come up.
        let control: Int32
        let writing = Mutex(())
        init(pid: Int32, control: Int32) {
            self.pid = pid
            self.control = control
        }
    }
    private let hosts: [Host]
    private let next = Mutex(0)
    private let endings = Mutex<[String: @Sendable (String) -> Void]>([:])
    let buildID = BuildIdentity.current()
    let launchesChildren = false

    init(hosts count: Int) throws {
        var hosts: [Host] = []
        for _ in 0..<count {
            var sockets: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sockets) == 0 else {
                throw FLAMEError(.bootFailed, "socketpair failed")
            }
            var pid: pid_t = 0
            let result = withCStrings(["/proc/self/exe", "swarm-host"]) { argv in
                withCStrings(["PATH=/usr/bin:/bin"]) { envp in
                    flame_spawn(&pid, "/proc/self/exe", argv, envp, [sockets[1]], [3], 1)
                }
            }
            close(sockets[1])
            guard result == 0 else { throw FLAMEError(.bootFailed, "cannot start a swarm host: \(result)") }
            hosts.append(Host(pid: pid, control: sockets[0]))
        }
        self.hosts = hosts
        for host in hosts {
            let control = host.control
            startThread { [self] in
                var lines = ControlLines(fd: control)
                while let line = lines.next() {
                    let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
                    guard fields.count == 3, fields[0] == "ended" else { continue }
                    endings.withLock { $0.removeValue(forKey: fields[1]) }?(fields[2])
                }
            }
        }
    }

    func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        let index = next.withLock { next in
            defer { next += 1 }
            return next % hosts.count
        }
        let id = request.spec.runnerID
        endings.withLock { $0[id] = request.ended }
        send("launch \(request.environment["FLAME_PARENT"] ?? "")", to: index)
        return SimulatedRunnerProcess(pid: hosts[index].pid, host: "swarm-\(index)") { [self] in send("kill \(id)", to: index) }
    }

    private func send(_ line: String, to index: Int) {
        let host = hosts[index]
        host.writing.withLock { _ in
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(host.control, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Ends the hosts (their runners' connections close with them).
    func stop() {
        for host in hosts {
            // shutdown, not just close: a reader thread blocked on the descriptor would keep
            // the socket open, and the host would never see its end.
            Glibc.shutdown(host.control, Int32(SHUT_RDWR))
            var status: Int32 = 0
            waitpid(host.pid, &status, 0)
        }
    }
}

struct SimulatedRunnerProcess: LaunchedRunner {
    let pid: Int32?
    let host: String?
    let onKill: @Sendable () -> Void
    func kill() { onKill() }
}

/// Lines from a blocking descriptor.
struct ControlLines {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { return nil }
            buffer += chunk[..<count]
        }
    }
}

/// `flame-bench swarm-host`: the runners a ``SwarmLauncher`` hands it, on one event loop.
enum SwarmHost {
    static func run() -> Never {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let control = Int32(3)
        let writing = Mutex(())
        let connections = Mutex<[String: any Channel]>([:])
        let report: @Sendable (String) -> Void = { line in
            writing.withLock { _ in
                let bytes = Array((line + "\n").utf8)
                _ = bytes.withUnsafeBytes { Glibc.send(control, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
        var lines = ControlLines(fd: control)
        while let line = lines.next() {
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard fields.count == 2 else { continue }
            if fields[0] == "kill" {
                connections.withLock { $0[fields[1]] }?.close(promise: nil)
                continue
            }
            guard fields[0] == "launch", let descriptor = try? ParentDescriptor.decode(fields[1]),
                let address = descriptor.address, let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            else { continue }
            let id = descriptor.runnerID
            ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(SimulatedRunner(descriptor: descriptor) {
                            connections.withLock { _ = $0.removeValue(forKey: id) }
                            report("ended \(id) exited with status 0")
                        })
                    }
                }
                .connect(host: String(address[..<colon]), port: port)
                .whenComplete { result in
                    switch result {
                    case .success(let channel): connections.withLock { $0[id] = channel }
                    case .failure: report("ended \(id) could not connect")
                    }
                }
        }
        exit(0)  // the parent closed the control socket
    }
}

/// One simulated runner: the runner side of the protocol on an event loop.
final class SimulatedRunner: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let descriptor: ParentDescriptor
    private let ended: @Sendable () -> Void
    private var decoder = FrameDecoder()
    private var heartbeat: RepeatedTask?

    init(descriptor: ParentDescriptor, ended: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.ended = ended
    }

    private static func frame(_ message: RunnerMessage, on channel: any Channel) -> ByteBuffer {
        var bytes: [UInt8] = []
        message.encodeFrame(into: &bytes)
        return channel.allocator.buffer(bytes: bytes)
    }

    /// Runs the job on the cooperative pool, as a runner does, and sends its result.
    private static func run(_ request: RunRequest, answeringOn channel: any Channel) {
        Task {
            let outcome = await JobCodec.run(request)
            channel.writeAndFlush(frame(.result(callID: request.id, outcome), on: channel), promise: nil)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        let hello = RunnerHello(
            runnerID: descriptor.runnerID, token: descriptor.token, buildID: BuildIdentity.current(), pid: Int64(getpid()), host: "swarm")
        context.channel.writeAndFlush(Self.frame(.hello(hello), on: context.channel), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        let channel = context.channel
        while let frame = try? decoder.nextFrame(), let message = try? ParentMessage(frame: frame) {
            switch message {
            case .welcome(let milliseconds):
                heartbeat = context.eventLoop.scheduleRepeatedTask(
                    initialDelay: .milliseconds(Int64(milliseconds)), delay: .milliseconds(Int64(milliseconds))
                ) { _ in
                    let beat = RunnerMessage.heartbeat(cpuNanoseconds: ResourceUsage.cpuNanoseconds(), residentBytes: ResourceUsage.residentBytes())
                    channel.writeAndFlush(Self.frame(beat, on: channel), promise: nil)
                }
            case .run(let request):
                Self.run(request, answeringOn: channel)
            case .startChild(let request):
                let failure = WireFailure(kind: .unknownJobType, message: "simulated runners run no child services")
                channel.writeAndFlush(Self.frame(.result(callID: request.id, .failure(failure)), on: channel), promise: nil)
            case .shutdown:
                context.close(promise: nil)
            case .cancel, .stopChild:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        heartbeat?.cancel()
        ended()
        context.fireChannelInactive()
    }
}
