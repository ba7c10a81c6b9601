import FLAME
import FLAMESlurm

// Runners as Slurm jobs on the test cluster of scripts/slurm-up.sh (Benchmarks/run brings it
// up and sets SLURM_CONF): cold boot (pool at zero → srun → the runner's hello → the first
// result), and the round trip and throughput of calls to Slurm runners, beside the local
// backend's figures of the same run.
func slurmFigures(rounds: Int) async throws {
    let listener = try await RunnerListener.start()
    func slurmBackend() -> SlurmBackend {
        SlurmBackend(options: SlurmOptions(arguments: []), listener: listener)
    }

    var boots: [Double] = []
    for i in 0..<20 {
        let start = ContinuousClock.now
        let pool = try await Pool(PoolConfiguration(name: "slurm-cold", max: 1), backend: slurmBackend())
        _ = try await pool.call(Ping(value: i))
        boots.append(microseconds(ContinuousClock.now - start))
        await pool.shutdown()
    }
    boots.sort()

    let pool = try await Pool(PoolConfiguration(name: "slurm-rtt", min: 1, max: 1), backend: slurmBackend())
    let samples = try await roundTrips(pool, rounds: rounds)
    await pool.shutdown()

    let busy = try await Pool(PoolConfiguration(name: "slurm-throughput", min: 2, max: 2, maxConcurrency: 64), backend: slurmBackend())
    let rate = try await callsPerSecond(on: busy, seconds: 3)
    await busy.shutdown()
    report("slurm", [
        "cold_boot_p50_ms": percentile(boots, 0.5) / 1000, "cold_boot_max_ms": boots.last! / 1000,
        "rtt_p50_us": percentile(samples, 0.5), "rtt_p99_us": percentile(samples, 0.99), "calls_per_s": rate,
    ])
}
