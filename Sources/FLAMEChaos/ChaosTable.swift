/// The summary `flame-chaos` prints: one row per scenario.
public enum ChaosTable {
    public static func render(_ reports: [ScenarioReport]) -> String {
        let header = ["scenario", "faults", "calls", "lost", "wrong", "failed (by error)", "max recovery", "fds before→after", "RSS MB before→after", "result"]
        var rows = [header]
        for report in reports {
            let failed = report.failures.isEmpty ? "0" : report.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            let recovery = report.maxRecovery.map { "\(Int(($0 / .milliseconds(1)).rounded())) ms" } ?? "-"
            let fds = pair(report.before?.fileDescriptors, report.after?.fileDescriptors)
            let rss = pair(report.before.map { Int($0.residentBytes >> 20) }, report.after.map { Int($0.residentBytes >> 20) })
            rows.append([report.name, "\(report.faults)", "\(report.calls)", "\(report.lost)", "\(report.wrong)", failed, recovery, fds, rss, report.passed ? "passed" : "FAILED"])
        }
        let totals = reports.reduce(into: (faults: 0, calls: 0, lost: 0, wrong: 0)) {
            $0.faults += $1.faults
            $0.calls += $1.calls
            $0.lost += $1.lost
            $0.wrong += $1.wrong
        }
        rows.append(["total", "\(totals.faults)", "\(totals.calls)", "\(totals.lost)", "\(totals.wrong)", "", "", "", "", reports.allSatisfy(\.passed) ? "passed" : "FAILED"])
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.indices.map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    private static func pair(_ before: Int?, _ after: Int?) -> String {
        guard let before, let after else { return "-" }
        return "\(before) → \(after)"
    }
}
