@testable import FLAME
import FLAMETestJobs
import FLAMETestSupport
import FLAMEWire
import Logging
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The TCP listener against hostile peers: every refusal the threat model names, each
/// logged, none disturbing the pool and its runners on the same listener.
@Suite(.timeLimit(.minutes(1))) struct RunnerListenerTests {
    @Test func hostilePeersAreRefusedAndLoggedWhileThePoolServesOn() async throws {
        let log = RecordedLog()
        // The hello deadline is short for the silent peer, yet long enough that a loaded
        // machine reads the others' hellos first (500 ms was not: seen in CI).
        let listener = try await RunnerListener.start(.init(helloTimeout: .seconds(3)), logger: log.logger)
        let launcher = CapturingLauncher(base: LocalProcessLauncher(executable: TestRunner.executable, arguments: []))
        let backend = LauncherBackend(launcher: launcher, listener: listener)
        let pool = try await Pool(PoolConfiguration(name: "guarded", min: 1, max: 1, maxConcurrency: 4), backend: backend)
        let stop = Mutex(false)
        let load = Task { () async throws -> Int in
            var served = 0
            while !stop.withLock({ $0 }) {
                let answer = try await pool.call(Echo(served))
                #expect(answer == served)
                served += 1
                try await Task.sleep(for: .milliseconds(2))  // steady, not a hot loop beside the suite
            }
            return served
        }
        let port = try #require(Int(listener.advertisedAddress.split(separator: ":").last!))
        let real = try #require(launcher.descriptors.first)
        func hello(id: String, token: String) -> [UInt8] {
            var bytes: [UInt8] = []
            RunnerMessage.hello(RunnerHello(runnerID: id, token: token, buildID: real.buildID, pid: 1, host: "evil"))
                .encodeFrame(into: &bytes)
            return bytes
        }
        var heartbeat: [UInt8] = []
        RunnerMessage.heartbeat(cpuNanoseconds: 1, residentBytes: 1).encodeFrame(into: &heartbeat)

        let peers: [(name: String, sends: [UInt8], logged: String)] = [
            ("wrong token", hello(id: real.runnerID, token: String(repeating: "0", count: 32)), "wrong token"),
            ("unknown runner id", hello(id: "guarded-99", token: real.token), "unknown runner id"),
            ("replayed hello of a connected runner", hello(id: real.runnerID, token: real.token), "already connected"),
            ("garbage in a frame", [0, 0, 0, 5, 200, 1, 2, 3, 4], "unknown message tag 200"),
            ("an HTTP request", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "exceeds the limit"),
            ("an oversized frame", [0x00, 0x10, 0x00, 0x00, 1, 2, 3], "frame of 1048576 bytes exceeds the limit"),
            ("a frame before its hello", heartbeat, "before its hello"),
            ("silence", [], "said no hello within"),
        ]
        for peer in peers {
            let started = ContinuousClock.now
            let closed = try await onDedicatedThread { try HostilePeer.sendAndWaitForClose(port: port, peer.sends) }
            #expect(closed, "\(peer.name): the parent kept the connection open")
            // Refused at once, or at the hello deadline for a silent peer, not at some
            // later timeout (the bound is loose: the suite loads both cores).
            #expect(ContinuousClock.now - started < .seconds(9), "\(peer.name)")
            #expect(await eventually(within: .seconds(5)) { log.messages.contains { $0.contains(peer.logged) } }, "\(peer.name) was not logged; logged: \(log.messages)")
        }
        stop.withLock { $0 = true }
        let served = try await load.value
        #expect(served > 0)
        let status = await pool.status()
        #expect(status.runners.map(\.id) == [real.runnerID], "the real runner was replaced")
        #expect(status.callsFailed == 0)
        #expect(try await pool.call(Echo(7)) == 7)
        await pool.shutdown()
        await listener.close()
    }

    /// A runner killed with data in flight resets its connection (RST): that is a runner
    /// gone, not a protocol violation to log as an error (seen when chaos killed runners).
    @Test func aResetConnectionIsADisconnectNotAViolation() async throws {
        let log = RecordedLog()
        let listener = try await RunnerListener.start(logger: log.logger)
        let delegate = RecordingDelegate()
        try listener.admissions.expect(RunnerExpectation(runnerID: "reset-1", token: "t0ken", buildID: "b", heartbeatInterval: .seconds(1)), delegate: delegate)
        let port = try #require(Int(listener.advertisedAddress.split(separator: ":").last!))
        try await onDedicatedThread {
            let fd = try ParentDialer.connect(to: "127.0.0.1:\(port)")
            var hello: [UInt8] = []
            RunnerMessage.hello(RunnerHello(runnerID: "reset-1", token: "t0ken", buildID: "b", pid: 1, host: "local")).encodeFrame(into: &hello)
            _ = hello.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 64)
            _ = read(fd, &buffer, buffer.count)  // the welcome
            var abort = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
            close(fd)  // with SO_LINGER 0: a reset, as the kernel sends for a killed process with unread data
        }
        #expect(await eventually { delegate.disconnects.count == 1 })
        #expect(delegate.connected == 1)
        #expect(delegate.disconnects.first == .some(nil), "a reset is no violation: \(delegate.disconnects)")
        #expect(!log.messages.contains { $0.contains("invalid frame") }, "\(log.messages)")
        await listener.close()
    }

    /// Linux's default soft limit (1,024 descriptors) would cap a parent at a few hundred
    /// TCP runners (a Slurm runner holds four); a listener lifts it to the hard limit, and
    /// what the parent spawns gets the original back.
    @Test func startingAListenerRaisesTheDescriptorLimitButNotItsChildrens() async throws {
        let (_, hard) = DescriptorLimit.current
        let lowered = hard > 1024 ? 1024 : hard / 2
        try #require(lowered > 0 && lowered < hard, "the hard limit (\(hard)) leaves no room to test a raise")
        var limit = rlimit(rlim_cur: rlim_t(lowered), rlim_max: rlim_t(hard))
        try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let listener = try await RunnerListener.start()
        #expect(DescriptorLimit.current.soft == hard)
        // The child looks a moment after it starts, as srun does (it reads its limits when it
        // submits the job): the limit is set right after the spawn, not before the child's
        // first instruction (DescriptorLimit says why), and a bare `ulimit -n` can win that race.
        let child = await ProgramRun.run("/bin/sh", ["-c", "sleep 0.2; ulimit -n"])
        #expect(child.lines == ["\(lowered)"], "a spawned process's soft limit: \(child.lines)")
        await listener.close()
    }

    @Test func aRunnerDialsBackOverTCPAndReportsItsHost() async throws {
        let listener = try await RunnerListener.start()
        let backend = LauncherBackend(
            launcher: LocalProcessLauncher(executable: TestRunner.executable, arguments: []), listener: listener)
        let pool = try await Pool(PoolConfiguration(name: "dialled", min: 1, max: 1), backend: backend)
        let runner = try #require(await pool.status().runners.first)
        #expect(runner.host == "local", "a local launcher's runner runs here")
        #expect(try await pool.call(WhoAmI()) == runner.pid)
        await pool.shutdown()
        #expect(listener.admissions.count == 0, "a gone runner must leave the admissions table")
        await listener.close()
    }

    @Test func connectionsWaitingToSayHelloAreBounded() async throws {
        let log = RecordedLog()
        let listener = try await RunnerListener.start(.init(helloTimeout: .seconds(20), maximumPendingHellos: 2), logger: log.logger)
        let port = try #require(Int(listener.advertisedAddress.split(separator: ":").last!))
        // Two silent peers hold the two places (until their 20 s deadline); a third is
        // closed at once.
        let silent = (0..<2).map { _ in Task { try await onDedicatedThread { try HostilePeer.sendAndWaitForClose(port: port, []) } } }
        #expect(await eventually { listener.pendingHellos.waiting == 2 })
        let started = ContinuousClock.now
        let third = try await onDedicatedThread { try HostilePeer.sendAndWaitForClose(port: port, []) }
        #expect(third)
        #expect(ContinuousClock.now - started < .seconds(6), "the third waited for a deadline")
        #expect(log.messages.contains { $0.contains("too many connections waiting to say hello") })
        await listener.close()
        for peer in silent { peer.cancel() }
    }

    @Test func twoPoolsOfOneNameOnOneListenerDoNotTakeEachOthersRunners() async throws {
        let listener = try await RunnerListener.start()
        let backend = LauncherBackend(
            launcher: LocalProcessLauncher(executable: TestRunner.executable, arguments: []), listener: listener)
        let first = try await Pool(PoolConfiguration(name: "twin", min: 1, max: 1), backend: backend)
        let error = await caught { try await Pool(PoolConfiguration(name: "twin", min: 1, max: 1), backend: backend) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("already taken"), "\(String(describing: error))")
        #expect(try await first.call(Echo(3)) == 3)
        await first.shutdown()
        #expect(listener.admissions.count == 0)
        await listener.close()
    }

    @Test func aRunnerInheritsNoOtherRunnersConnection() async throws {
        let listener = try await RunnerListener.start()
        let backend = LauncherBackend(
            launcher: LocalProcessLauncher(executable: TestRunner.executable, arguments: []), listener: listener)
        let pool = try await Pool(PoolConfiguration(name: "inherit", min: 1, max: 2, maxConcurrency: 1), backend: backend)
        // The second runner is spawned after the first one's connection was accepted.
        try await pool.scale(min: 2)
        #expect(await eventually { await pool.status().runners.filter { $0.state == .idle }.count == 2 })
        async let first = pool.call(OpenSockets(holdMilliseconds: 300))
        async let second = pool.call(OpenSockets(holdMilliseconds: 300))
        let answers = try await [first, second]
        #expect(Set(answers.map { $0[0] }).count == 2, "both runners answered: \(answers)")
        for answer in answers {
            #expect(answer[1] == 1, "runner \(answer[0]) holds \(answer[1]) sockets; its own connection only")
        }
        await pool.shutdown()
        await listener.close()
    }

    @Test func tokensCompareEqualOnlyWhenEqual() {
        #expect(RunnerAdmissions.constantTimeEqual("abc", "abc"))
        #expect(!RunnerAdmissions.constantTimeEqual("abc", "abd"))
        #expect(!RunnerAdmissions.constantTimeEqual("abc", "ab"))
        #expect(!RunnerAdmissions.constantTimeEqual("", "a"))
        #expect(!RunnerAdmissions.constantTimeEqual("a\u{0}", "a"))
        #expect(RunnerAdmissions.constantTimeEqual("", ""))
    }
}

/// A launcher that remembers the `FLAME_PARENT` of every runner it started.
final class CapturingLauncher: RunnerLauncher {
    let base: LocalProcessLauncher
    private let captured = Mutex<[ParentDescriptor]>([])
    init(base: LocalProcessLauncher) { self.base = base }

    var descriptors: [ParentDescriptor] { captured.withLock { $0 } }
    var buildID: String { base.buildID }
    var launchesChildren: Bool { base.launchesChildren }

    func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        if let raw = request.environment[ParentDescriptor.environmentKey] {
            let descriptor = try ParentDescriptor.decode(raw)
            captured.withLock { $0.append(descriptor) }
        }
        return try await base.launch(request)
    }
}

/// Log messages, recorded.
final class RecordedLog: Sendable {
    private let recorded = Mutex<[String]>([])
    var messages: [String] { recorded.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    fileprivate func append(_ line: String) { recorded.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let log: RecordedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).merging(metadata) { a, _ in a }.map { "\($0.key)=\($0.value)" }.sorted()
            log.append("\(event.message) \(fields.joined(separator: " "))")
        }
    }
}

/// A connection delegate that records what it heard.
final class RecordingDelegate: RunnerConnectionDelegate {
    private let heard = Mutex<(connected: Int, disconnects: [String?])>((0, []))
    var connected: Int { heard.withLock { $0.connected } }
    var disconnects: [String?] { heard.withLock { $0.disconnects } }
    func connected(_ connection: RunnerConnection, hello: RunnerHello) { heard.withLock { $0.connected += 1 } }
    func refused(_ error: FLAMEError) {}
    func impostorRefused(_ error: FLAMEError) {}
    func received(_ message: RunnerMessage) {}
    func disconnected(violation: FLAMEError?) { heard.withLock { $0.disconnects.append(violation?.message) } }
}

/// A raw TCP client that says what it is told and reports whether the parent hung up.
enum HostilePeer {
    /// Connects to loopback `port`, sends `bytes`, and waits up to 8 s for the parent to close
    /// the connection (true) or not (false).
    static func sendAndWaitForClose(port: Int, _ bytes: [UInt8]) throws -> Bool {
        let fd = try ParentDialer.connect(to: "127.0.0.1:\(port)")  // as a runner dials
        defer { close(fd) }
        if !bytes.isEmpty { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var timeout = timeval(tv_sec: 8, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}
