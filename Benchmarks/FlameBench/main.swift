import FLAME
import FLAMEAdmin
import FLAMEAdminProtocol
#if canImport(Glibc)
import Glibc
#endif

// The FLAME core's figures for `make bench` (Benchmarks/run). Runs in release mode; this
// executable is its own runner, as an app would be. Prints one JSON object per figure.

/// The trivial job of round-trip measurements.
struct Ping: Job {
    var value: Int
    func run() async throws -> Int { value }
}

/// The same, opted in to run on the runner's reader thread.
struct InlinePing: InlineJob {
    var value: Int
    func run() async throws -> Int { value }
}

/// A call that keeps its runner busy for a while without using the CPU.
struct Work: Job {
    var milliseconds: Int
    func run() async throws -> Int {
        try await Task.sleep(for: .milliseconds(milliseconds))
        return milliseconds
    }
}

/// A payload round trip.
struct Payload: Job {
    var bytes: [UInt8]
    func run() async throws -> Int { bytes.count }
}

try await FLAME.bootstrap()
if CommandLine.arguments.dropFirst().first == "swarm-host" { SwarmHost.run() }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

func report(_ name: String, _ fields: [String: Double]) {
    let body = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \((($0.value * 10).rounded()) / 10)" }.joined(separator: ", ")
    print("{\"figure\": \"\(name)\", \(body)}")
    fflush(nil)
}

let arguments = CommandLine.arguments
let rounds = arguments.count > 1 ? Int(arguments[1]) ?? 20_000 : 20_000
/// `flame-bench ROUNDS FIGURE` measures only that figure (for profiling).
let only = arguments.count > 2 ? arguments[2] : nil
func wanted(_ figure: String) -> Bool { only == nil || only == figure }

// Idle runner RSS (from its heartbeat, after one call) and the parent's RSS with 8 idle runners:
// first, while the parent has done nothing else (a burst of 10,000 tasks leaves its heap larger).
if wanted("idle_runner_rss") {
    var configuration = PoolConfiguration(name: "rss", min: 8, max: 8)
    configuration.heartbeatInterval = .milliseconds(100)
    let pool = try await Pool(configuration, backend: try await localBackend())
    for i in 0..<64 { _ = try await pool.call(Ping(value: i)) }
    try await Task.sleep(for: .milliseconds(500))
    let runners = await pool.status().runners
    let rss = runners.map { Double($0.residentBytes) / 1_048_576 }.sorted()
    let statm = try String(decoding: { () throws -> [UInt8] in
        let fd = open("/proc/self/statm", O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = read(fd, &buffer, 256)
        return Array(buffer[..<max(count, 0)])
    }(), as: UTF8.self)
    let parentPages = Double(statm.split(separator: " ")[1]) ?? 0
    report("idle_runner_rss", ["median_mb": rss[rss.count / 2], "max_mb": rss.last!, "parent_with_8_mb": parentPages * 4096 / 1_048_576])
    await pool.shutdown()
}

/// The loopback listener of the TCP figures, started on first use.
let tcpListener = Task { try await RunnerListener.start() }

/// Local runners over an inherited socketpair, or (`tcp`) dialling back over loopback TCP.
func localBackend(tcp: Bool = false) async throws -> LocalProcessBackend {
    LocalProcessBackend(arguments: [], transport: tcp ? .tcp(try await tcpListener.value) : .socketpair)
}

/// Round trips of one call at a time on `pool`, after 2,000 to warm up: sorted, in µs.
func roundTrips(_ pool: Pool, rounds: Int) async throws -> [Double] {
    for i in 0..<2_000 { _ = try await pool.call(Ping(value: i)) }
    var samples: [Double] = []
    samples.reserveCapacity(rounds)
    for i in 0..<rounds {
        let start = ContinuousClock.now
        _ = try await pool.call(Ping(value: i))
        samples.append(microseconds(ContinuousClock.now - start))
    }
    return samples.sorted()
}

// Warm round trip: one runner, one call at a time.
if wanted("warm_rtt") {
    let pool = try await Pool(PoolConfiguration(name: "rtt", min: 1, max: 1), backend: try await localBackend())
    let samples = try await roundTrips(pool, rounds: rounds)
    report("warm_rtt", ["p50_us": percentile(samples, 0.5), "p99_us": percentile(samples, 0.99)])

    var payloadSamples: [Double] = []
    let mebibyte = [UInt8](repeating: 1, count: 1 << 20)
    for _ in 0..<5 { _ = try await pool.call(Payload(bytes: mebibyte)) }
    for _ in 0..<50 {
        let start = ContinuousClock.now
        _ = try await pool.call(Payload(bytes: mebibyte))
        payloadSamples.append(microseconds(ContinuousClock.now - start))
    }
    payloadSamples.sort()
    report("payload_1mib", ["p50_ms": percentile(payloadSamples, 0.5) / 1000])
    await pool.shutdown()
}

/// Calls per second with 64 in flight on `runners` runners for `seconds` (of `InlinePing`
/// when `inline`; over TCP when `tcp`).
func throughput(runners: Int, seconds: Double, inline: Bool = false, tcp: Bool = false) async throws -> Double {
    let pool = try await Pool(
        PoolConfiguration(name: "throughput", min: runners, max: runners, maxConcurrency: 64), backend: try await localBackend(tcp: tcp))
    let rate = try await callsPerSecond(on: pool, seconds: seconds, inline: inline)
    await pool.shutdown()
    return rate
}

/// Calls per second with 64 in flight on `pool` for `seconds`, after 2,000 to warm up.
func callsPerSecond(on pool: Pool, seconds: Double, inline: Bool = false) async throws -> Double {
    for i in 0..<2_000 { _ = try await pool.call(Ping(value: i)) }
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<64 {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    _ = inline ? try await pool.call(InlinePing(value: worker)) : try await pool.call(Ping(value: worker))
                    count += 1
                }
                return count
            }
        }
        var sum = 0
        for try await count in group { sum += count }
        return sum
    }
    return Double(total) / seconds
}

// Throughput: two runners, 64 calls in flight, for 3 seconds.
if wanted("throughput") {
    report("throughput", ["calls_per_s": try await throughput(runners: 2, seconds: 3)])
}

// The same two over TCP loopback: local runners that dial back to a listener, as remote
// ones do.
if wanted("tcp") {
    let pool = try await Pool(PoolConfiguration(name: "rtt-tcp", min: 1, max: 1), backend: try await localBackend(tcp: true))
    let samples = try await roundTrips(pool, rounds: rounds)
    await pool.shutdown()
    report("tcp", [
        "rtt_p50_us": percentile(samples, 0.5), "rtt_p99_us": percentile(samples, 0.99),
        "calls_per_s": try await throughput(runners: 2, seconds: 3, tcp: true),
    ])
}

// Inline jobs against ordinary ones, alternated three times in this one run (the machine
// drifts): round trip p50 on one runner, and throughput with 2 runners and 64 in flight.
if wanted("inline") {
    let pool = try await Pool(PoolConfiguration(name: "inline", min: 1, max: 1), backend: try await localBackend())
    func p50(_ inline: Bool) async throws -> Double {
        var samples: [Double] = []
        for i in 0..<(rounds / 4) {
            let start = ContinuousClock.now
            _ = inline ? try await pool.call(InlinePing(value: i)) : try await pool.call(Ping(value: i))
            samples.append(microseconds(ContinuousClock.now - start))
        }
        return percentile(samples.sorted(), 0.5)
    }
    for i in 0..<2_000 { _ = try await pool.call(InlinePing(value: i)) }
    var ordinary: [Double] = [], inline: [Double] = [], ordinaryRate: [Double] = [], inlineRate: [Double] = []
    for _ in 0..<3 {
        ordinary.append(try await p50(false))
        inline.append(try await p50(true))
    }
    await pool.shutdown()
    for _ in 0..<3 {
        ordinaryRate.append(try await throughput(runners: 2, seconds: 2))
        inlineRate.append(try await throughput(runners: 2, seconds: 2, inline: true))
    }
    report("inline", [
        "rtt_p50_us": inline.sorted()[1], "ordinary_rtt_p50_us": ordinary.sorted()[1],
        "calls_per_s": inlineRate.sorted()[1], "ordinary_calls_per_s": ordinaryRate.sorted()[1],
    ])
}

// Scaling: 1, 2 and 4 runners on this machine's cores.
if wanted("scaling") {
    var fields: [String: Double] = [:]
    for runners in [1, 2, 4] { fields["runners_\(runners)_calls_per_s"] = try await throughput(runners: runners, seconds: 2) }
    fields["cores"] = Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    report("scaling", fields)
}

// Scale-out: a pool at zero, a burst of 10,000 calls of 2 ms each (max 8 runners, 4 calls
// each): how long until 8 runners are busy, and until the last call returns.
if wanted("scale_out") {
    let pool = try await Pool(PoolConfiguration(name: "burst", min: 0, max: 8, maxConcurrency: 4), backend: try await localBackend())
    let start = ContinuousClock.now
    let burst = Task {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10_000 { group.addTask { try await pool.call(Work(milliseconds: 2)) } }
            var sum = 0
            for try await value in group { sum += value }
            return sum
        }
    }
    var allBusy: Duration?
    while allBusy == nil, ContinuousClock.now - start < .seconds(30) {
        let busy = await pool.status().runners.filter { $0.state == .busy }.count
        if busy == 8 { allBusy = ContinuousClock.now - start }
        try await Task.sleep(for: .milliseconds(1))
    }
    _ = try await burst.value
    let finished = ContinuousClock.now - start
    report("scale_out", ["to_8_busy_ms": allBusy.map { microseconds($0) / 1000 } ?? -1, "burst_done_ms": microseconds(finished) / 1000])
    await pool.shutdown()
}

// Slurm runners, when Benchmarks/run found (or brought up) the test cluster.
if wanted("slurm"), getenv("SLURM_CONF") != nil {
    try await slurmFigures(rounds: rounds / 4)
}

// Cold boot: a pool with no runner, one call, until its result.
if wanted("cold_boot") {
    var samples: [Double] = []
    for i in 0..<20 {
        let start = ContinuousClock.now
        let pool = try await Pool(PoolConfiguration(name: "cold", max: 1), backend: try await localBackend())
        _ = try await pool.call(Ping(value: i))
        samples.append(microseconds(ContinuousClock.now - start))
        await pool.shutdown()
    }
    samples.sort()
    report("cold_boot", ["p50_ms": percentile(samples, 0.5) / 1000, "max_ms": samples.last! / 1000])
}


/// Threads of this process, from /proc/self/task.
func threadCount() -> Int {
    guard let directory = opendir("/proc/self/task") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
    }
    return count
}

/// This process's CPU time (user + system), as runners report it in heartbeats.
func cpuSeconds() -> Double { Double(ResourceUsage.cpuNanoseconds()) / 1e9 }

// The swarm: the parent holding 2,000 runner connections over TCP (simulated runners, 500
// per swarm host process, real protocol and jobs) with heartbeats at 1 Hz: its threads and
// CPU, the round trip beside one with a single runner connected, and the admin snapshot.
if wanted("swarm") {
    let count = arguments.count > 3 ? Int(arguments[3]) ?? 2_000 : 2_000
    let launcher = try SwarmLauncher(hosts: 4)
    let backend = LauncherBackend(launcher: launcher, listener: try await tcpListener.value)
    func configuration(_ name: String, runners: Int) -> PoolConfiguration {
        var configuration = PoolConfiguration(name: name, min: runners, max: runners)
        configuration.heartbeatInterval = .seconds(1)
        configuration.bootTimeout = .seconds(120)
        // A swarm may be asked for more than the default ceiling on min and max.
        configuration.runnerLimit = Swift.max(runners, PoolConfiguration.defaultRunnerLimit)
        return configuration
    }
    let single = try await Pool(configuration("swarm-1", runners: 1), backend: backend)
    let alone = try await roundTrips(single, rounds: 5_000)
    await single.shutdown()

    let bootStarted = ContinuousClock.now
    let pool = try await Pool(configuration("swarm", runners: count), backend: backend)
    let booted = ContinuousClock.now - bootStarted
    try await Task.sleep(for: .seconds(3))  // every runner heartbeating
    let connected = await pool.status().runners.count
    let threads = threadCount()
    let residentMegabytes = Double(ResourceUsage.residentBytes()) / 1_048_576
    let cpuStart = cpuSeconds()
    let wallStart = ContinuousClock.now
    try await Task.sleep(for: .seconds(10))
    let cpu = (cpuSeconds() - cpuStart) / (microseconds(ContinuousClock.now - wallStart) / 1e6) * 100
    let crowded = try await roundTrips(pool, rounds: 5_000)

    let server = AdminServer(.init(app: "flame-bench", path: "/tmp/flame-bench-\(getpid())/swarm.sock"))
    try await server.start()
    var snapshots: [Double] = []
    var builds: [Double] = []
    var bytes = 0
    for _ in 0..<50 {
        let start = ContinuousClock.now
        let snapshot = await server.snapshot()
        builds.append(microseconds(ContinuousClock.now - start))
        let line = try AdminCodec.line(AdminReply.snapshot(snapshot))
        snapshots.append(microseconds(ContinuousClock.now - start))
        bytes = line.count
    }
    await server.stop()
    let shutdownStarted = ContinuousClock.now
    await pool.shutdown()
    let shutdown = ContinuousClock.now - shutdownStarted
    launcher.stop()
    report("swarm", [
        "runners": Double(connected), "parent_threads": Double(threads), "parent_cpu_percent": cpu,
        "rtt_p50_us": percentile(crowded, 0.5), "rtt_1_runner_p50_us": percentile(alone, 0.5),
        "boot_all_s": microseconds(booted) / 1e6, "snapshot_us": percentile(snapshots.sorted(), 0.5), "snapshot_build_us": percentile(builds.sorted(), 0.5),
        "snapshot_bytes": Double(bytes), "shutdown_s": microseconds(shutdown) / 1e6, "parent_rss_mb": residentMegabytes,
    ])
}
