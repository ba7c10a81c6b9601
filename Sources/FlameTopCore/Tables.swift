import FLAMEAdminProtocol

extension Renderer {
    /// The pools table, where `layout` puts it.
    mutating func drawPools(_ pools: [PoolSnapshot], layout: Layout) {
        let top = layout.poolHeaderY
        let wide = width >= 110
        let spark = wide ? max(10, (width - 100) / 2) : 0
        // Narrow terminals drop P95 and the sparklines and tighten every column.
        var columns: [(String, Int, Bool)] =
            wide
            ? [
                ("POOL", 14, false), ("RUNNERS b/i/o", 14, false), ("MIN/MAX", 8, true), ("QUEUE", 6, true),
                ("CALLS/S", 8, true), ("P50", 8, true), ("P95", 8, true), ("P99", 8, true), ("FAIL", 6, true),
            ]
            : [
                ("POOL", 12, false), ("RUN b/i/o", 11, false), ("MIN/MAX", 7, true), ("QUEUE", 5, true),
                ("CALLS/S", 7, true), ("P50", 7, true), ("P99", 7, true), ("FAIL", 5, true),
            ]
        if wide { columns += [("  QUEUE 60s", spark + 2, false), ("  P99 60s", spark + 2, false)] }
        let header = columns.map { Format.padded($0.0, $0.1, right: $0.2) }.joined(separator: " ")
        screen.fill(x: 0, y: top, width: width, height: 1, role: .header)
        screen.put(header, x: 0, y: top, role: .header)
        var y = top + 1
        for (index, pool) in pools.enumerated().dropFirst(layout.firstPool).prefix(layout.poolRows) {
            let selected = index == model.selectedPool
            let history = model.history[pool.name] ?? Model.History()
            let busy = pool.runners.filter { $0.state == "busy" }.count
            let idle = pool.runners.filter { $0.state == "idle" }.count
            let booting = pool.pendingBoots
            var row = RowWriter(columns: columns, y: y, stale: stale)
            func cell(_ text: String, _ column: Int, _ role: Role) { row.cell(text, column, role, on: &screen) }
            cell(pool.name, 0, .text)
            cell("\(pool.runners.count) \(busy)/\(idle)/\(booting)", 1, busy > 0 ? .runnerBusy : .runnerIdle)
            cell("\(pool.min)/\(pool.max)", 2, .text)
            cell("\(pool.queueDepth)", 3, pool.queueDepth > 0 ? .queue : .text)
            cell(Units.oneDecimal(history.callsPerSecond), 4, .text)
            cell(Format.micros(pool.latency.p50Us, unicode: unicode), 5, .text)
            var next = 6
            if wide {
                cell(Format.micros(pool.latency.p95Us, unicode: unicode), next, .text)
                next += 1
            }
            cell(Format.micros(pool.latency.p99Us, unicode: unicode), next, .text)
            cell("\(pool.calls.failed + pool.calls.timedOut)", next + 1, pool.calls.failed + pool.calls.timedOut > 0 ? .failure : .text)
            if wide {
                var x = row.x
                x = screen.put("  " + Format.sparkline(history.queueDepth.map(Double.init), width: spark, unicode: unicode), x: x, y: y, role: .sparkQueue)
                x = screen.put(" ", x: x, y: y, role: .text)
                screen.put("  " + Format.sparkline(history.p99Us.map(Double.init), width: spark, unicode: unicode), x: x, y: y, role: .sparkP99)
            }
            if selected && model.focus == .pools { screen.paint(x: 0, y: y, width: width, role: .selection) }
            y += 1
        }
    }

    /// The selected pool's runners between rows `top` and `bottom`.
    mutating func drawRunners(_ pool: PoolSnapshot, from top: Int, to bottom: Int, firstRow first: Int) {
        let title = "RUNNERS of \(pool.name)  (sorted by \(model.runnerSort.rawValue), < > to change)"
        screen.put(title, x: 0, y: top, role: model.focus == .runners ? .title : .dim)
        let wide = width >= 110
        let barWidth = wide ? 14 : 8
        // Wide terminals show where each runner runs: its host (a cluster node) and job.
        let columns: [(String, Int, Bool)] =
            wide
            ? [
                ("ID", 16, false), ("STATE", 9, false), ("PID", 7, true), ("CPU%", 6, true), ("", barWidth, false),
                ("RSS", 7, true), ("INFLIGHT", 9, true), ("DONE", 7, true), ("FAIL", 5, true), ("UP", 7, true),
                ("HOST", 12, false),
            ]
            : [
                ("ID", 14, false), ("STATE", 8, false), ("PID", 6, true), ("CPU%", 5, true), ("", barWidth, false),
                ("RSS", 6, true), ("INFL", 5, true), ("DONE", 6, true), ("FAIL", 4, true), ("UP", 6, true),
            ]
        screen.fill(x: 0, y: top + 1, width: width, height: 1, role: .header)
        screen.put(columns.map { Format.padded($0.0, $0.1, right: $0.2) }.joined(separator: " "), x: 0, y: top + 1, role: .header)
        let runners = model.visibleRunners
        let rows = bottom - top - 2
        guard rows > 0 else { return }
        if runners.isEmpty {
            screen.put("no runners (min \(pool.min)); calls boot them on demand", x: 2, y: top + 2, role: .dim)
            return
        }
        var y = top + 2
        for (index, runner) in runners.enumerated().dropFirst(first).prefix(rows) {
            var row = RowWriter(columns: columns, y: y, stale: stale)
            func cell(_ text: String, _ column: Int, _ role: Role) { row.cell(text, column, role, on: &screen) }
            cell(runner.id, 0, .text)
            cell(runner.state, 1, Self.role(ofState: runner.state))
            if runner.state == "exited" {
                // Gone: nothing to measure; why it went, where there is room.
                for column in [2, 3, 5, 6, 7, 8, 9] { cell("-", column, .dim) }
                if wide { cell((runner.lastError ?? "").replacing("runner \(runner.id) ", with: ""), 10, .dim) }
                if index == model.selectedRunner && model.focus != .pools { screen.paint(x: 0, y: y, width: width, role: .selection) }
                y += 1
                continue
            }
            cell(runner.pid.map(String.init) ?? "-", 2, .text)
            cell(Units.oneDecimal(runner.cpuPercent), 3, .text)
            cell(Format.bar(runner.cpuPercent / 100, width: barWidth, unicode: unicode), 4, .cpuBar)
            cell(Units.bytes(runner.rssBytes), 5, .text)
            cell(wide ? "\(runner.inFlight)/\(pool.maxConcurrency)" : "\(runner.inFlight)", 6, runner.inFlight > 0 ? .runnerBusy : .text)
            cell("\(runner.completed)", 7, .text)
            cell("\(runner.failed)", 8, runner.failed > 0 ? .failure : .text)
            cell(Units.duration(runner.uptimeSeconds), 9, .text)
            if wide { cell(runner.placement, 10, .dim) }
            if index == model.selectedRunner && model.focus != .pools { screen.paint(x: 0, y: y, width: width, role: .selection) }
            y += 1
        }
    }

    static func role(ofState state: String) -> Role {
        switch state {
        case "booting": .runnerBooting
        case "busy": .runnerBusy
        case "draining": .runnerDraining
        case "exiting", "exited": .runnerExiting
        default: .runnerIdle
        }
    }

    /// The log pane of the selected runner between rows `top` and `bottom`.
    mutating func drawLogs(from top: Int, to bottom: Int) {
        let runner = model.currentRunner?.id ?? "no runner selected"
        let mode = model.follow ? "following" : "scrolled back \(model.logScroll) (f follows)"
        var title = "LOG \(runner)  [\(mode)]"
        if model.logDropped > 0 { title += "  \(model.logDropped) older lines dropped" }
        screen.fill(x: 0, y: top, width: width, height: 1, role: .border)
        screen.put((unicode ? "── " : "-- ") + title + " ", x: 0, y: top, role: model.focus == .logs ? .title : .border)
        let rows = bottom - top - 1
        guard rows > 0 else { return }
        let end = model.logLines.count - model.logScroll
        let shown = model.logLines[max(0, end - rows)..<max(0, end)]
        for (offset, line) in shown.enumerated() {
            let role: Role = line.stream == "stderr" ? (line.level == "error" || line.level == "critical" ? .failure : .dim) : .text
            screen.put(line.line, x: 0, y: top + 1 + offset, role: role)
        }
    }
}

/// Writes one table row cell by cell: padded to the column, a space after each.
struct RowWriter {
    let columns: [(String, Int, Bool)]
    let y: Int
    /// Data from a lost connection is drawn dim.
    let stale: Bool
    var x = 0

    init(columns: [(String, Int, Bool)], y: Int, stale: Bool) {
        self.columns = columns
        self.y = y
        self.stale = stale
    }

    mutating func cell(_ text: String, _ column: Int, _ role: Role, on screen: inout CellBuffer) {
        let (_, width, right) = columns[column]
        x = screen.put(Format.padded(text, width, right: right), x: x, y: y, role: stale ? .dim : role)
        x = screen.put(" ", x: x, y: y, role: .text)
    }
}
