import FLAME
import FLAMEAdmin
import FLAMEAdminClient
import FLAMEAdminProtocol
import FlameTopCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// Admin socket costs: snapshot build + encode with 100 runners, its size, and the
// parent's CPU with 5 clients subscribed at 10 Hz. `flame-admin-bench client PATH` is one
// such client (a separate process, so its CPU is not the parent's).

try await FLAME.bootstrap()

let arguments = CommandLine.arguments
if arguments.count == 3, arguments[1] == "client" {
    let client = try await AdminClient.connect(path: arguments[2], client: "bench")
    var count = 0
    for try await reply in client.stream(.subscribe(snapshots: true, intervalMilliseconds: 100, events: false)) {
        if case .snapshot = reply { count += 1 }
    }
    exit(0)
}

func report(_ name: String, _ fields: [String: Double]) {
    let body = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \((($0.value * 10).rounded()) / 10)" }.joined(separator: ", ")
    print("{\"figure\": \"\(name)\", \(body)}")
    fflush(nil)
}

/// This process's CPU time (user + system), as runners report it in heartbeats.
func cpuSeconds() -> Double { Double(ResourceUsage.cpuNanoseconds()) / 1e9 }

func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

let runners = 100
let pool = try await Pool(
    PoolConfiguration(name: "bench", min: runners, max: runners, maxConcurrency: 4), backend: LocalProcessBackend(arguments: []))
for i in 0..<400 { pool.cast(NoOp(value: i)) }
try await Task.sleep(for: .seconds(2))  // heartbeats arrive, so every field is filled

let path = "/tmp/flame-admin-bench-\(getpid())/bench.sock"
let server = AdminServer(.init(app: "flame-admin-bench", path: path))
try await server.start()

// Snapshot build + encode.
var samples: [Double] = []
var builds: [Double] = []
var bytes = 0
for _ in 0..<300 {
    let start = ContinuousClock.now
    let snapshot = await server.snapshot()
    let built = ContinuousClock.now
    let line = try AdminCodec.line(AdminReply.snapshot(snapshot))
    samples.append(microseconds(ContinuousClock.now - start))
    builds.append(microseconds(built - start))
    bytes = line.count
}
samples.sort()
builds.sort()
report("snapshot_100_runners", [
    "p50_us": samples[samples.count / 2], "p99_us": samples[samples.count * 99 / 100], "bytes": Double(bytes),
    "build_p50_us": builds[builds.count / 2],
])

// Decoding that snapshot, as flamectl and flame-top do: the protocol's own decoder beside
// Foundation's JSONDecoder (what it replaced), same line, same run.
let snapshotLine = Array(try AdminCodec.line(AdminReply.snapshot(await server.snapshot())).dropLast())
func decodeTimes(_ decode: () throws -> AdminReply) rethrows -> [Double] {
    var times: [Double] = []
    for _ in 0..<300 {
        let start = ContinuousClock.now
        _ = try decode()
        times.append(microseconds(ContinuousClock.now - start))
    }
    return times.sorted()
}
let ours = try decodeTimes { try AdminCodec.decode(AdminReply.self, from: snapshotLine).body }
let foundations = try decodeTimes { try JSONDecoder().decode(AdminEnvelope<AdminReply>.self, from: Data(snapshotLine)).body }
report("snapshot_decode_100_runners", ["p50_us": ours[150], "jsondecoder_p50_us": foundations[150]])

// Parent CPU, idle pools (heartbeats only), then with 5 clients at 10 Hz.
let window: Duration = .seconds(10)
var before = cpuSeconds()
try await Task.sleep(for: window)
let baseline = (cpuSeconds() - before) / 10 * 100

var clients: [pid_t] = []
for _ in 0..<5 {
    var pid = pid_t()
    let words: [String] = [CommandLine.arguments[0], "client", path]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    posix_spawn(&pid, "/proc/self/exe", nil, nil, argv, nil)
    for pointer in argv { free(pointer) }
    clients.append(pid)
}
try await Task.sleep(for: .seconds(2))
before = cpuSeconds()
try await Task.sleep(for: window)
let withClients = (cpuSeconds() - before) / 10 * 100
report("parent_cpu_percent", ["idle_100_runners": baseline, "with_5_clients_10hz": withClients, "clients_connected": Double(server.clientCount)])

for pid in clients { kill(pid, SIGTERM) }
for pid in clients { waitpid(pid, nil, 0) }

// flame-top: render time per frame (view + diff, 120×40, 100 runners), in process.
var model = Model(socketPath: path)
let liveSnapshot = await server.snapshot()
for step in 0..<60 { _ = update(&model, .snapshot(liveSnapshot, at: Double(step))) }
_ = update(&model, .key(.enter))
var frames: [Double] = []
var previous: CellBuffer?
for frame in 0..<1000 {
    _ = update(&model, .tick(at: 60 + Double(frame) / 10))
    let start = ContinuousClock.now
    let screen = view(model, width: 120, height: 40)
    _ = screen.changes(since: previous)
    frames.append(microseconds(ContinuousClock.now - start))
    previous = screen
}
frames.sort()
report("flametop_frame", ["p50_us": frames[frames.count / 2], "p99_us": frames[frames.count * 99 / 100]])

// flame-top's side at 2,000 runners (docs/SCALING.md): the live snapshot's 100 runners
// copied to 2,000 (distinct ids), encoded; per snapshot that arrives, flame-top decodes the
// line, updates its model and renders a frame.
var large = liveSnapshot
if var pool = large.pools.first {
    pool.runners = (0..<2_000).map { index in
        var runner = liveSnapshot.pools.flatMap(\.runners)[index % max(1, liveSnapshot.pools.flatMap(\.runners).count)]
        runner.id = "\(pool.name)-\(index + 1)"
        return runner
    }
    large.pools[0] = pool
}
let largeLine = Array(try AdminCodec.line(AdminReply.snapshot(large)).dropLast())
var largeModel = Model(socketPath: path)
for step in 0..<5 { _ = update(&largeModel, .snapshot(large, at: Double(step))) }
_ = update(&largeModel, .key(.enter))
var decodes: [Double] = [], updates: [Double] = [], renders: [Double] = []
var largePrevious: CellBuffer?
for step in 0..<100 {
    var start = ContinuousClock.now
    guard case .snapshot(let decoded) = try AdminCodec.decode(AdminReply.self, from: largeLine).body else { break }
    decodes.append(microseconds(ContinuousClock.now - start))
    start = ContinuousClock.now
    _ = update(&largeModel, .snapshot(decoded, at: 5 + Double(step)))
    updates.append(microseconds(ContinuousClock.now - start))
    start = ContinuousClock.now
    let screen = view(largeModel, width: 120, height: 40)
    _ = screen.changes(since: largePrevious)
    renders.append(microseconds(ContinuousClock.now - start))
    largePrevious = screen
}
decodes.sort(); updates.sort(); renders.sort()
report("flametop_2000_runners", [
    "bytes": Double(largeLine.count), "decode_p50_us": decodes[decodes.count / 2], "update_p50_us": updates[updates.count / 2],
    "frame_p50_us": renders[renders.count / 2],
])

// flame-top itself, in tmux at 120×40, attached at 10 Hz for 60 s: its CPU.
let flameTop = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("flame-top").path
func tmux(_ words: [String]) -> Int32 {
    var pid = pid_t()
    let argv: [UnsafeMutablePointer<CChar>?] = (["tmux", "-L", "flame-bench-\(getpid())"] + words).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    guard posix_spawnp(&pid, "tmux", nil, nil, argv, environ) == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status
}
func processCPUSeconds(_ pid: pid_t) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
if access(flameTop, X_OK) == 0,
    tmux(["new-session", "-d", "-x", "120", "-y", "40", "exec env LANG=C.UTF-8 TERM=screen-256color \(flameTop) --socket \(path) --interval 100ms"]) == 0
{
    try await Task.sleep(for: .seconds(3))
    var pidOfTop: pid_t?
    if let dir = opendir("/proc") {
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = Int32(name), let cmd = try? String(contentsOfFile: "/proc/\(name)/cmdline", encoding: .utf8) else { continue }
            if cmd.hasPrefix(flameTop), cmd.contains(path) { pidOfTop = pid }
        }
        closedir(dir)
    }
    if let pidOfTop, let start = processCPUSeconds(pidOfTop) {
        let seconds = 60.0
        try await Task.sleep(for: .seconds(seconds))
        let end = processCPUSeconds(pidOfTop) ?? start
        report("flametop_cpu", ["percent_10hz_100_runners": (end - start) / seconds * 100, "seconds": seconds])
    }
    if let pidOfTop { kill(pidOfTop, SIGTERM) }
    _ = tmux(["kill-server"])
} else {
    print("{\"figure\": \"flametop_cpu\", \"skipped\": 1}")
}
await server.stop()
rmdir("/tmp/flame-admin-bench-\(getpid())")
await pool.shutdown()

struct NoOp: Job {
    var value: Int
    func run() async throws -> Int { value }
}
