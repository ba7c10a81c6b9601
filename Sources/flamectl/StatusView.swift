import FLAMEAdminProtocol

/// A plain-text table with left-aligned columns.
struct Table {
    var header: [String]
    var rows: [[String]]

    init(_ header: [String], _ rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    var rendered: String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $0.element.padding(widths[$0.offset]) }.joined(separator: "  ").trimmingSuffixSpaces()
        }.joined(separator: "\n")
    }
}

extension String {
    func trimmingSuffixSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// `flamectl status` for humans.
enum StatusView {
    static func render(_ snapshot: Snapshot) -> String {
        var out = "\(snapshot.app)  pid \(snapshot.pid)  up \(duration(snapshot.uptimeSeconds))  protocol \(snapshot.protocolVersion)\n\n"
        out += Table(
            ["POOL", "RUNNERS", "BUSY", "MIN", "MAX", "CONC", "QUEUE", "BOOTING", "DONE", "FAILED", "TIMEOUT", "P50", "P95", "P99", "MAX"],
            snapshot.pools.map { pool in
                [
                    pool.name, "\(pool.runners.count)", "\(pool.runners.filter { $0.state == "busy" }.count)", "\(pool.min)",
                    "\(pool.max)", "\(pool.maxConcurrency)", "\(pool.queueDepth)", "\(pool.pendingBoots)", "\(pool.calls.completed)",
                    "\(pool.calls.failed)", "\(pool.calls.timedOut)", micros(pool.latency.p50Us), micros(pool.latency.p95Us),
                    micros(pool.latency.p99Us), micros(pool.latency.maxUs),
                ]
            }
        ).rendered
        let runners = snapshot.pools.flatMap(\.runners)
        if !runners.isEmpty {
            out += "\n\n" + Table(
                ["RUNNER", "STATE", "PID", "HOST", "JOB", "CPU%", "RSS", "INFLIGHT", "DONE", "FAILED", "UP", "LAST ERROR"],
                runners.map { runner in
                    [
                        runner.id, runner.state, runner.pid.map(String.init) ?? "-", runner.host, runner.clusterJob ?? "-",
                        String(format1: runner.cpuPercent),
                        bytes(runner.rssBytes), "\(runner.inFlight)", "\(runner.completed)", "\(runner.failed)",
                        duration(runner.uptimeSeconds), String((runner.lastError ?? "").prefix(60)),
                    ]
                }
            ).rendered
        }
        return out
    }

    static func micros(_ value: UInt64) -> String { Units.micros(value) }
    static func bytes(_ value: UInt64) -> String { Units.bytes(value) }
    static func duration(_ seconds: Double) -> String { seconds < 60 ? Units.oneDecimal(seconds) + "s" : Units.duration(seconds) }
}

extension String {
    /// One decimal place.
    init(format1 value: Double) {
        self = Units.oneDecimal(value)
    }
}
