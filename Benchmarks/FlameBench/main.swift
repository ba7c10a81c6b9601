import FLAME
#if canImport(Glibc)
import Glibc
#endif

// First measurements of the FLAME core (issue 3). Runs in release mode; this executable is
// its own runner, as an app would be. Prints one JSON object per figure.

/// The trivial job of round-trip measurements.
struct Ping: Job {
    var value: Int
    func run() async throws -> Int { value }
}

/// A payload round trip.
struct Payload: Job {
    var bytes: [UInt8]
    func run() async throws -> Int { bytes.count }
}

try await FLAME.bootstrap()

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

// Warm round trip: one runner, one call at a time.
if wanted("warm_rtt") {
    let pool = try await Pool(PoolConfiguration(name: "rtt", min: 1, max: 1), backend: LocalProcessBackend(arguments: []))
    for i in 0..<2_000 { _ = try await pool.call(Ping(value: i)) }
    var samples: [Double] = []
    samples.reserveCapacity(rounds)
    for i in 0..<rounds {
        let start = ContinuousClock.now
        _ = try await pool.call(Ping(value: i))
        samples.append(microseconds(ContinuousClock.now - start))
    }
    samples.sort()
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

// Throughput: two runners, 64 calls in flight, for 3 seconds.
if wanted("throughput") {
    let pool = try await Pool(
        PoolConfiguration(name: "throughput", min: 2, max: 2, maxConcurrency: 32), backend: LocalProcessBackend(arguments: []))
    for i in 0..<2_000 { _ = try await pool.call(Ping(value: i)) }
    let seconds = 3.0
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for worker in 0..<64 {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline {
                    _ = try await pool.call(Ping(value: worker))
                    count += 1
                }
                return count
            }
        }
        var sum = 0
        for try await count in group { sum += count }
        return sum
    }
    report("throughput", ["calls_per_s": Double(total) / seconds])
    await pool.shutdown()
}

// Cold boot: a pool with no runner, one call, until its result.
if wanted("cold_boot") {
    var samples: [Double] = []
    for i in 0..<20 {
        let start = ContinuousClock.now
        let pool = try await Pool(PoolConfiguration(name: "cold", max: 1), backend: LocalProcessBackend(arguments: []))
        _ = try await pool.call(Ping(value: i))
        samples.append(microseconds(ContinuousClock.now - start))
        await pool.shutdown()
    }
    samples.sort()
    report("cold_boot", ["p50_ms": percentile(samples, 0.5) / 1000, "max_ms": samples.last! / 1000])
}

// Idle runner RSS (from its heartbeat, after one call) and the parent's RSS with 8 idle runners.
if wanted("idle_runner_rss") {
    var configuration = PoolConfiguration(name: "rss", min: 8, max: 8)
    configuration.heartbeatInterval = .milliseconds(100)
    let pool = try await Pool(configuration, backend: LocalProcessBackend(arguments: []))
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
