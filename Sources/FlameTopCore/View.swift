import FLAMEAdminProtocol

/// Renders `model` into a `width` × `height` buffer. `unicode` selects bars, sparklines and
/// `µs`; without it (a non-UTF-8 locale) everything is ASCII.
public func view(_ model: Model, width: Int, height: Int, unicode: Bool = true) -> CellBuffer {
    var screen = CellBuffer(width: width, height: height)
    guard width >= 20, height >= 6 else {
        screen.put("terminal too small", x: 0, y: 0, role: .statusError)
        return screen
    }
    var renderer = Renderer(model: model, screen: screen, unicode: unicode)
    renderer.draw()
    return renderer.screen
}

struct Renderer {
    let model: Model
    var screen: CellBuffer
    let unicode: Bool
    var width: Int { screen.width }
    var height: Int { screen.height }
    /// Data from a lost connection is drawn dim.
    var stale: Bool { if case .disconnected = model.connection { true } else { false } }

    mutating func draw() {
        drawHeader()
        let top = 2
        if case .disconnected(let reason, let retry) = model.connection {
            let text = " disconnected: \(reason) — reconnecting in \(Units.oneDecimal(retry))s "
            screen.fill(x: 0, y: 1, width: width, height: 1, role: .banner)
            screen.put(text, x: max(0, (width - text.count) / 2), y: 1, role: .banner)
        }
        let bottom = height - 2  // status line, footer
        guard let snapshot = model.snapshot else {
            let text = model.connection == .connecting ? "connecting to \(model.socketPath)…" : "no data yet"
            screen.put(text, x: 2, y: top + 1, role: .dim)
            drawStatus()
            drawFooter()
            drawDialog()
            return
        }
        let layout = Layout(model: model, width: width, height: height)
        if snapshot.pools.isEmpty {
            screen.put("this parent has no pools yet", x: 2, y: top + 1, role: .dim)
        } else {
            drawPools(model.visiblePools, layout: layout)
        }
        if let runnersTop = layout.runnersTop, let pool = model.currentPool {
            drawRunners(pool, from: runnersTop, to: layout.runnersBottom, firstRow: layout.firstRunner)
        }
        if model.showLogs { drawLogs(from: layout.runnersBottom, to: bottom) }
        drawStatus()
        drawFooter()
        drawDialog()
    }

    // MARK: - Header, status, footer

    mutating func drawHeader() {
        let snapshot = model.snapshot
        var x = screen.put("flame-top ", x: 0, y: 0, role: .title)
        x = screen.put("\(model.app)", x: x, y: 0, role: .title)
        if let snapshot { x = screen.put(" pid \(snapshot.pid) up \(Units.duration(snapshot.uptimeSeconds))", x: x, y: 0, role: .text) }
        let state: (String, Role) =
            switch model.connection {
            case .connecting: ("connecting", .dim)
            case .connected where model.isStale: ("stale \(Units.duration(model.dataAge))", .statusError)
            case .connected: (model.paused ? "paused" : "live", model.paused ? .queue : .statusOK)
            case .disconnected: ("disconnected", .statusError)
            }
        x = screen.put("  \(unicode ? "●" : "*") ", x: x, y: 0, role: state.1)
        x = screen.put(state.0, x: x, y: 0, role: state.1)
        x = screen.put(" \(Units.oneDecimal(model.interval))s", x: x, y: 0, role: .dim)
        if model.readOnly { x = screen.put("  read-only", x: x, y: 0, role: .dim) }
        guard let snapshot else { return }
        let runners = snapshot.pools.flatMap(\.runners)
        let busy = runners.filter { $0.state == "busy" }.count
        let queued = snapshot.pools.reduce(0) { $0 + $1.queueDepth }
        let rate = snapshot.pools.reduce(0.0) { $0 + (model.history[$1.name]?.callsPerSecond ?? 0) }
        let full = "runners \(runners.count)  busy \(busy)  queued \(queued)  \(Units.oneDecimal(rate)) calls/s"
        let short = "\(runners.count)r \(busy)b \(queued)q \(Units.oneDecimal(rate))/s"
        let totals = x + 2 + full.count <= width ? full : short
        if x + 2 + totals.count <= width {
            screen.put(totals, x: width - totals.count, y: 0, role: queued > 0 ? .queue : .text)
        }
    }

    mutating func drawStatus() {
        let y = height - 2
        if model.editingFilter {
            let x = screen.put("filter: ", x: 0, y: y, role: .footerText)
            screen.put(model.filter + (unicode ? "▏" : "_"), x: x, y: y, role: .text)
        } else if let status = model.status {
            screen.put(status.text, x: 0, y: y, role: status.isError ? .statusError : .statusOK)
        } else if model.isStale {
            screen.put(
                "no data from the parent for \(Units.duration(model.dataAge)) (stopped or hung?): showing the last snapshot", x: 0, y: y,
                role: .statusError)
        } else if !model.filter.isEmpty {
            screen.put("filter: \(model.filter)  (Esc clears)", x: 0, y: y, role: .dim)
        }
    }

    mutating func drawFooter() {
        let y = height - 1
        screen.fill(x: 0, y: y, width: width, height: 1, role: .footerText)
        var x = 0
        for binding in KeyMap.all {
            guard let label = binding.footer else { continue }
            if model.readOnly, KeyMap.readOnlyHidden.contains(binding.keys) { continue }
            guard x + binding.keys.count + label.count + 2 <= width else { break }
            x = screen.put(binding.keys, x: x, y: y, role: .footerKey)
            x = screen.put(" \(label) ", x: x, y: y, role: .footerText)
        }
    }
}
