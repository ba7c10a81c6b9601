import FLAME
import FLAMEAdmin
import FLAMEAdminClient
import FLAMEAdminProtocol
#if canImport(Glibc)
import Glibc
#endif

/// What the admin-abuse scenario allows the parent, measured against a quiet phase of the
/// same length just before (docs/RELIABILITY.md has the numbers these came from).
public enum AdminAbuseBounds {
    /// Resident memory the abuse may add: 60 stalled subscribers hold at most their buffer
    /// (1 MiB by default) plus one line each, 64 MB at worst; measured +11 MB.
    public static let addedResidentBytes: UInt64 = 96 << 20
    /// CPU the abuse may add, in percent of one core (the abusers run in the same process,
    /// so this counts them too; measured +11 points).
    public static let addedCPUPercent = 60.0
    /// How long `status` (connect, hello, snapshot) may take while the abuse runs.
    public static let statusTimeout: Duration = .seconds(3)
}

extension ChaosSuite {
    /// A loaded parent's admin socket under abuse: 60 subscribers at 100 ms that never read,
    /// a flood of connections that never say hello, peers sending garbage and overlong lines,
    /// and one connection sending thousands of subscribe requests. Its RSS and CPU must stay
    /// within ``AdminAbuseBounds`` and an operator's `status` must keep answering in time.
    func adminAbuse() async throws -> ScenarioReport {
        let pool = try await pool("chaos-admin", min: 2, max: 4)
        let directory = "/tmp/flame-chaos-admin-\(getpid())"
        let server = AdminServer(.init(app: "flame-chaos", path: directory + "/chaos.sock"))
        try await server.start()
        defer { rmdir(directory) }
        do {
            let report = try await abuse(server, on: pool)
            await server.stop()
            return report
        } catch {
            await server.stop()
            throw error
        }
    }

    private func abuse(_ server: AdminServer, on pool: Pool) async throws -> ScenarioReport {
        try await scenario("admin-abuse", on: pool) { report in
            let load = Load(pool: pool, callers: max(1, profile.callers / 2))
            let phase = profile.faultPhase
            // The quiet phase: the load and one operator polling, as during the abuse.
            let quiet = try await measure(for: phase, polling: server.path, into: &report)
            var peers: [AbusivePeer] = []
            let hello = "{\"type\":\"hello\",\"protocol\":\(adminProtocolVersion)}\n"
            for _ in 0..<60 {
                let peer = AbusivePeer(path: server.path)
                // Subscribed, plus a burst of big replies that fills its socket at once.
                let burst = String(repeating: "{\"type\":\"metrics\"}\n{\"type\":\"snapshot\"}\n", count: 45)
                peer.send(hello + "{\"type\":\"subscribe\",\"snapshots\":true,\"intervalMs\":100,\"events\":true}\n" + burst)
                peers.append(peer)
            }
            let flooder = AbusivePeer(path: server.path)
            flooder.send(hello + String(repeating: "{\"type\":\"subscribe\",\"snapshots\":true,\"intervalMs\":100,\"events\":true}\n", count: 2_000))
            peers.append(flooder)
            let abuse = Task {
                var silent: [AbusivePeer] = []
                var faults = 0
                while !Task.isCancelled {
                    // Connections that never say hello, 20 a second; peers sending garbage.
                    for _ in 0..<4 { silent.append(AbusivePeer(path: server.path)) }
                    if silent.count > 200 { silent.removeFirst(100) }
                    let garbage = AbusivePeer(path: server.path)
                    garbage.send("\u{01}\u{02}not json\n{\"type\":\n" + String(repeating: "x", count: 70_000) + "\n")
                    faults += 5
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return faults
            }
            let abused = try await measure(for: phase, polling: server.path, into: &report)
            abuse.cancel()
            report.faults += await abuse.value + peers.count
            report.absorb(await load.stop())
            let addedRSS = abused.residentBytes > quiet.residentBytes ? abused.residentBytes - quiet.residentBytes : 0
            let addedCPU = abused.cpuPercent - quiet.cpuPercent
            report.expect(
                addedRSS <= AdminAbuseBounds.addedResidentBytes,
                "RSS \(quiet.residentBytes >> 20) MB quiet, \(abused.residentBytes >> 20) MB under abuse (at most +\(AdminAbuseBounds.addedResidentBytes >> 20) MB)")
            report.expect(
                addedCPU <= AdminAbuseBounds.addedCPUPercent,
                "CPU \(Int(quiet.cpuPercent)) % quiet, \(Int(abused.cpuPercent)) % under abuse (at most +\(Int(AdminAbuseBounds.addedCPUPercent)) points)")
            report.expect(
                abused.slowestStatus <= AdminAbuseBounds.statusTimeout && abused.failedStatuses == 0,
                "status answered \(abused.statuses) times under abuse, slowest \(abused.slowestStatus), \(abused.failedStatuses) failed (within \(AdminAbuseBounds.statusTimeout))")
            let highWater = server.bufferedBytesHighWater.max() ?? 0
            report.expect(
                highWater <= (1 << 20) + (1 << 20),
                "the most reply bytes one client had waiting: \(highWater >> 10) KiB (its buffer is 1 MiB, plus one line)")
            peers.removeAll()  // each closes its socket as it goes
        }
    }

    struct PhaseMeasure {
        var residentBytes: UInt64
        var cpuPercent: Double
        var statuses = 0
        var failedStatuses = 0
        var slowestStatus: Duration = .zero
    }

    /// Runs an operator's `status` every 250 ms for `duration`, then samples RSS and the CPU
    /// this process used meanwhile.
    private func measure(for duration: Duration, polling path: String, into report: inout ScenarioReport) async throws -> PhaseMeasure {
        let cpuBefore = ResourceUsage.cpuNanoseconds()
        let started = ContinuousClock.now
        var measure = PhaseMeasure(residentBytes: 0, cpuPercent: 0)
        while ContinuousClock.now - started < duration {
            let asked = ContinuousClock.now
            let answered = await Self.statusAnswers(at: path, within: AdminAbuseBounds.statusTimeout)
            measure.statuses += 1
            if !answered { measure.failedStatuses += 1 }
            measure.slowestStatus = max(measure.slowestStatus, ContinuousClock.now - asked)
            try await Task.sleep(for: .milliseconds(250))
        }
        let wall = ContinuousClock.now - started
        let cpu = Double(ResourceUsage.cpuNanoseconds() - cpuBefore) / 1e9
        measure.cpuPercent = cpu / wall.seconds * 100
        measure.residentBytes = ProcessProbe.sample().residentBytes
        return measure
    }

    /// Whether connect, hello and a snapshot came back within `timeout`, asked by a process
    /// of its own, as an operator's `flamectl status --timeout` would (this executable, run
    /// with `--probe-status PATH`; ``probeStatus(at:timeout:)``).
    private static func statusAnswers(at path: String, within timeout: Duration) async -> Bool {
        return await ProgramRun.run("/proc/self/exe", ["--probe-status", path, "--probe-timeout", "\(timeout.seconds)"], timeout: timeout + .seconds(5))
            .succeeded
    }

    /// What `--probe-status PATH` does: connect, hello and one snapshot within `timeout`;
    /// true when they came.
    public static func probeStatus(at path: String, timeout: Duration) async -> Bool {
        let started = ContinuousClock.now
        guard let client = try? await AdminClient.connect(path: path, client: "chaos-operator", timeout: timeout) else { return false }
        defer { client.close() }
        let deadline = client.deadline(after: timeout - (ContinuousClock.now - started))
        defer { deadline.cancel() }
        guard case .snapshot = try? await client.request(.snapshot) else { return false }
        return true
    }
}

/// A raw admin socket connection that writes what it is told and never reads.
final class AbusivePeer: Sendable {
    let fd: Int32

    init(path: String) {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = SocketLocation.address(of: path)?.connect(fd)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Writes what the socket takes now (the rest is dropped: an abuser does not care).
    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    deinit { Glibc.close(fd) }
}
