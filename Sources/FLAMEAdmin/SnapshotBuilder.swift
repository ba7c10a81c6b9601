import FLAME
import FLAMEAdminProtocol

/// Builds the admin protocol's view of every live pool in this process.
enum SnapshotBuilder {
    static func snapshot(app: String, pid: Int32, startedAt: ContinuousClock.Instant) async -> Snapshot {
        var pools: [PoolSnapshot] = []
        for pool in PoolRegistry.shared.pools {
            pools.append(snapshot(of: await pool.status()))
        }
        let uptime = ContinuousClock.now - startedAt
        return Snapshot(app: app, pid: pid, uptimeSeconds: uptime.seconds, pools: pools)
    }

    static func snapshot(of status: PoolStatus) -> PoolSnapshot {
        PoolSnapshot(
            name: status.name, min: status.min, max: status.max, maxConcurrency: status.maxConcurrency,
            queueDepth: status.queueDepth, pendingBoots: status.pendingBoots,
            calls: .init(completed: status.callsCompleted, failed: status.callsFailed, timedOut: status.callsTimedOut),
            latency: .init(
                p50Us: status.latency.p50Microseconds, p95Us: status.latency.p95Microseconds,
                p99Us: status.latency.p99Microseconds, maxUs: status.latency.maxMicroseconds),
            bootLatency: .init(p50Us: status.bootLatency.p50Microseconds, maxUs: status.bootLatency.maxMicroseconds),
            runners: status.runners.map { runner in
                RunnerSnapshot(
                    id: runner.id, state: runner.state.rawValue, pid: runner.pid, host: runner.host,
                    cpuPercent: (runner.cpuPercent * 10).rounded() / 10, rssBytes: runner.residentBytes,
                    inFlight: runner.inFlight, completed: runner.completed, failed: runner.failed,
                    uptimeSeconds: runner.uptime.seconds, lastError: runner.lastError, clusterJob: runner.clusterJob)
            },
            exited: status.exitedRunners.isEmpty
                ? nil
                : status.exitedRunners.map { ExitedRunnerSnapshot(id: $0.id, reason: $0.reason, exitedSecondsAgo: ($0.since.seconds * 10).rounded() / 10) })
    }
}

extension Duration {
    /// The duration in seconds (the admin server's and its chaos scenario's one conversion).
    package var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// The snapshot's figures in Prometheus text exposition format (for `metrics` requests).
enum PrometheusText {
    static func render(_ snapshot: Snapshot) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name){\(sample.labels)} \(sample.value)\n" }
        }
        func label(_ value: String) -> String {
            value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
        }
        let pools = snapshot.pools
        family("flame_calls_total", "counter", "Calls answered or failed, by outcome.", pools.flatMap { pool in
            [("completed", pool.calls.completed), ("failed", pool.calls.failed), ("timed_out", pool.calls.timedOut)].map {
                ("pool=\"\(label(pool.name))\",outcome=\"\($0.0)\"", "\($0.1)")
            }
        })
        family("flame_runners", "gauge", "Runners by state.", pools.flatMap { pool in
            ["booting", "idle", "busy", "draining", "exiting"].map { state in
                ("pool=\"\(label(pool.name))\",state=\"\(state)\"", "\(pool.runners.filter { $0.state == state }.count)")
            }
        })
        family("flame_queue_depth", "gauge", "Callers waiting for a runner.", pools.map { ("pool=\"\(label($0.name))\"", "\($0.queueDepth)") })
        family("flame_pending_boots", "gauge", "Runners booting.", pools.map { ("pool=\"\(label($0.name))\"", "\($0.pendingBoots)") })
        family("flame_call_latency_seconds", "gauge", "Call latency over the last 60 s.", pools.flatMap { pool in
            [("0.5", pool.latency.p50Us), ("0.95", pool.latency.p95Us), ("0.99", pool.latency.p99Us), ("1", pool.latency.maxUs)].map {
                ("pool=\"\(label(pool.name))\",quantile=\"\($0.0)\"", "\(Double($0.1) / 1e6)")
            }
        })
        let runners = pools.flatMap { pool in pool.runners.map { (pool.name, $0) } }
        family("flame_runner_cpu_percent", "gauge", "Runner CPU over its last heartbeat interval.", runners.map {
            ("pool=\"\(label($0.0))\",runner=\"\(label($0.1.id))\"", "\($0.1.cpuPercent)")
        })
        family("flame_runner_resident_bytes", "gauge", "Runner resident memory.", runners.map {
            ("pool=\"\(label($0.0))\",runner=\"\(label($0.1.id))\"", "\($0.1.rssBytes)")
        })
        return out
    }
}
