public import FLAMEAdminProtocol

/// A key press, decoded from the terminal.
public enum Key: Sendable, Equatable {
    case character(Character)
    case up, down, left, right, tab, enter, escape, backspace, pageUp, pageDown, home, end
}

/// Everything that happens to flame-top: input, data, time.
public enum Action: Sendable, Equatable {
    case key(Key)
    /// A mouse click at a cell of a screen of the given size: selects the pool or runner there.
    case click(x: Int, y: Int, width: Int, height: Int)
    case connected(ServerHello)
    case snapshot(Snapshot, at: Double)
    case disconnected(reason: String, retryInSeconds: Double, at: Double)
    case logLines([LogLine], dropped: Int)
    /// The answer to a command flame-top sent (scale, drain, kill).
    case commandFinished(message: String, isError: Bool, at: Double)
    case tick(at: Double)
}

/// What `update` asks the shell to do.
public enum Effect: Sendable, Equatable {
    case send(AdminRequest)
    /// Start showing (backlog then follow) this runner's output; nil stops.
    case tailLogs(runner: String?)
    case setInterval(Double)
    case cycleTheme
    case quit
}

/// One key binding: what the footer and help show, and when it applies.
public struct KeyBinding: Sendable, Equatable {
    public var keys: String
    public var help: String
    /// The short label in the footer; nil keeps the binding out of the footer.
    public var footer: String?
}

/// The key registry that drives both handling (see `update`) and the help screen and footer.
public enum KeyMap {
    public static let all: [KeyBinding] = [
        KeyBinding(keys: "↑/↓ j/k", help: "move the selection (or click a row)", footer: nil),
        KeyBinding(keys: "Tab", help: "next pane (pools, runners, logs)", footer: "pane"),
        KeyBinding(keys: "Enter", help: "open the selected pool's runners", footer: nil),
        KeyBinding(keys: "Esc", help: "back, close a dialog", footer: nil),
        KeyBinding(keys: "/", help: "filter pools and runners", footer: "filter"),
        KeyBinding(keys: "< >", help: "sort runners by the previous/next column", footer: nil),
        KeyBinding(keys: "s", help: "scale the selected pool (min/max)", footer: "scale"),
        KeyBinding(keys: "d", help: "drain the selected runner (or pool, in the pools pane)", footer: "drain"),
        KeyBinding(keys: "K", help: "kill the selected runner (SIGKILL)", footer: "kill"),
        KeyBinding(keys: "l", help: "show or hide the log pane", footer: "logs"),
        KeyBinding(keys: "f", help: "follow the log (or stop following)", footer: nil),
        KeyBinding(keys: "PgUp/PgDn", help: "scroll the log", footer: nil),
        KeyBinding(keys: "[ ]", help: "resize the log pane", footer: nil),
        KeyBinding(keys: "p", help: "pause or resume updates", footer: "pause"),
        KeyBinding(keys: "+ -", help: "refresh faster or slower", footer: nil),
        KeyBinding(keys: "T", help: "next colour theme", footer: nil),
        KeyBinding(keys: "?", help: "this help", footer: "help"),
        KeyBinding(keys: "q", help: "quit", footer: "quit"),
    ]

    static let readOnlyHidden: Set<String> = ["s", "d", "K"]
}

/// Applies `action` to `model` and returns the effects to perform.
public func update(_ model: inout Model, _ action: Action) -> [Effect] {
    switch action {
    case .connected(let hello):
        model.connection = .connected
        // A parent that says hello and then sends nothing is stale too, three intervals on.
        model.lastSnapshotAt = model.now
        model.app = hello.app
        if hello.readOnly { model.readOnly = true }
        return []
    case .snapshot(let snapshot, let time):
        model.now = time
        model.lastSnapshotAt = time
        guard !model.paused else { return [] }
        record(snapshot, at: time, in: &model)
        let (pool, runner) = (model.currentPool?.name, model.currentRunner?.id)
        model.snapshot = snapshot
        model.app = snapshot.app
        model.connection = .connected
        keepSelection(pool: pool, runner: runner, in: &model)
        return []
    case .disconnected(let reason, let retry, let time):
        model.now = time
        model.connection = .disconnected(reason: reason, retryInSeconds: retry)
        return []
    case .logLines(let lines, let dropped):
        model.logLines.append(contentsOf: lines)
        if model.logLines.count > 5000 { model.logLines.removeFirst(model.logLines.count - 5000) }
        model.logDropped = dropped
        return []
    case .commandFinished(let message, let isError, let time):
        model.status = .init(text: message, isError: isError, until: time + 5)
        return []
    case .tick(let time):
        model.now = time
        if let status = model.status, status.until <= time { model.status = nil }
        return []
    case .key(let key):
        return handle(key, in: &model)
    case .click(_, let y, let width, let height):
        guard model.dialog == nil else { return [] }
        let layout = Layout(model: model, width: width, height: height)
        if let pool = layout.pool(atRow: y) {
            if pool != model.selectedPool { model.selectedRunner = 0 }
            model.selectedPool = pool
            model.focus = .pools
        } else if let runner = layout.runner(atRow: y), runner < model.visibleRunners.count {
            let before = model.currentRunner?.id
            model.selectedRunner = runner
            model.focus = .runners
            if model.showLogs, let id = model.currentRunner?.id, id != before {
                model.logLines = []
                return [.tailLogs(runner: id)]
            }
        }
        return []
    }
}

private func record(_ snapshot: Snapshot, at time: Double, in model: inout Model) {
    for pool in snapshot.pools {
        var history = model.history[pool.name] ?? Model.History()
        history.queueDepth.append(pool.queueDepth)
        history.p99Us.append(pool.latency.p99Us)
        if history.queueDepth.count > Model.historyLength { history.queueDepth.removeFirst() }
        if history.p99Us.count > Model.historyLength { history.p99Us.removeFirst() }
        let completed = pool.calls.completed + pool.calls.failed
        if let last = history.lastCompleted, let lastTime = history.lastTime, time > lastTime {
            history.callsPerSecond = Double(max(completed - last, 0)) / (time - lastTime)
        }
        history.lastCompleted = completed
        history.lastTime = time
        model.history[pool.name] = history
    }
}

/// Rows reorder (sorting by CPU) and come and go between snapshots: the selection stays on
/// the same pool and runner when they still exist, else on the row where they were.
private func keepSelection(pool: String?, runner: String?, in model: inout Model) {
    // Each list is filtered and sorted once (clampSelection would do it again).
    let pools = model.visiblePools
    model.selectedPool = pools.firstIndex { $0.name == pool } ?? min(model.selectedPool, max(pools.count - 1, 0))
    let runners = model.visibleRunners
    model.selectedRunner = runners.firstIndex { $0.id == runner } ?? min(model.selectedRunner, max(runners.count - 1, 0))
}

private func clampSelection(_ model: inout Model) {
    model.selectedPool = min(model.selectedPool, max(model.visiblePools.count - 1, 0))
    model.selectedRunner = min(model.selectedRunner, max(model.visibleRunners.count - 1, 0))
}

private func handle(_ key: Key, in model: inout Model) -> [Effect] {
    if let dialog = model.dialog { return handle(key, in: dialog, model: &model) }
    if model.editingFilter {
        switch key {
        case .enter, .escape: model.editingFilter = false
        case .backspace: _ = model.filter.popLast()
        case .character(let c): model.filter.append(c)
        default: break
        }
        model.selectedPool = 0
        model.selectedRunner = 0
        return []
    }
    switch key {
    case .character("q"):
        return [.quit]
    case .character("?"):
        model.dialog = .help
    case .up, .character("k"):
        return move(-1, &model)
    case .down, .character("j"):
        return move(1, &model)
    case .tab:
        model.focus = switch model.focus {
        case .pools: .runners
        case .runners: model.showLogs ? .logs : .pools
        case .logs: .pools
        }
    case .enter:
        if model.focus == .pools { model.focus = .runners }
    case .escape:
        if model.focus != .pools { model.focus = .pools } else if !model.filter.isEmpty { model.filter = "" }
    case .character("/"):
        model.editingFilter = true
        model.filter = ""
    case .character("<"), .character(">"):
        let all = Model.RunnerSort.allCases
        let index = all.firstIndex(of: model.runnerSort)!
        model.runnerSort = all[(index + (key == .character(">") ? 1 : all.count - 1)) % all.count]
    case .character("p"):
        model.paused.toggle()
        model.status = .init(text: model.paused ? "updates paused (p resumes)" : "updates resumed", isError: false, until: model.now + 3)
    case .character("+"):
        model.interval = Model.intervalSteps.last { $0 < model.interval } ?? Model.intervalSteps[0]
        return [.setInterval(model.interval)]
    case .character("-"):
        model.interval = Model.intervalSteps.first { $0 > model.interval } ?? Model.intervalSteps.last!
        return [.setInterval(model.interval)]
    case .character("T"):
        return [.cycleTheme]
    case .character("l"):
        model.showLogs.toggle()
        if !model.showLogs && model.focus == .logs { model.focus = .runners }
        model.logLines = []
        return [.tailLogs(runner: model.showLogs ? model.currentRunner?.id : nil)]
    case .character("f"):
        model.follow.toggle()
        if model.follow { model.logScroll = 0 }
    case .pageUp:
        model.follow = false
        model.logScroll = min(model.logScroll + 10, max(model.logLines.count - 1, 0))
    case .pageDown:
        model.logScroll = max(model.logScroll - 10, 0)
        if model.logScroll == 0 { model.follow = true }
    case .character("["):
        model.logSplit = max(0.2, model.logSplit - 0.1)
    case .character("]"):
        model.logSplit = min(0.8, model.logSplit + 0.1)
    case .character("s") where !model.readOnly:
        if let pool = model.currentPool {
            model.dialog = .scale(.init(pool: pool.name, min: "\(pool.min)", max: "\(pool.max)"))
        }
    case .character("d") where !model.readOnly:
        if model.focus == .pools, let pool = model.currentPool {
            model.dialog = .confirm(.init(title: "Drain every runner of pool \(pool.name)?", request: .drainPool(pool.name)))
        } else if let runner = model.currentRunner {
            if runner.state == "exited" {
                exitedAlready(runner, &model)
            } else {
                model.dialog = .confirm(.init(title: "Drain runner \(runner.id)?", request: .drainRunner(runner.id)))
            }
        }
    case .character("K") where !model.readOnly:
        if model.focus == .pools {
            // The pools pane highlights no runner: ask for one rather than kill one unseen.
            model.status = .init(text: "select a runner first (Enter, then j/k)", isError: true, until: model.now + 3)
        } else if let runner = model.currentRunner {
            if runner.state == "exited" {
                exitedAlready(runner, &model)
            } else {
                model.dialog = .confirm(.init(title: "Kill runner \(runner.id) (SIGKILL)? Its calls fail.", request: .kill(runner: runner.id)))
            }
        }
    case .character("s"), .character("d"), .character("K"):
        model.status = .init(text: "read-only: scale, drain and kill are disabled", isError: true, until: model.now + 3)
    default:
        break
    }
    return []
}

/// An exited runner's row can only show its logs.
private func exitedAlready(_ runner: RunnerSnapshot, _ model: inout Model) {
    model.status = .init(text: "runner \(runner.id) has exited: \(runner.lastError ?? "")", isError: true, until: model.now + 3)
}

/// Moves the selection in the focused pane; a log pane then tails the runner now selected
/// (it kept tailing the one it was opened on).
private func move(_ delta: Int, _ model: inout Model) -> [Effect] {
    let before = model.currentRunner?.id
    moveSelection(delta, &model)
    guard model.showLogs, model.focus != .logs, model.currentRunner?.id != before else { return [] }
    model.logLines = []
    return [.tailLogs(runner: model.currentRunner?.id)]
}

private func moveSelection(_ delta: Int, _ model: inout Model) {
    switch model.focus {
    case .pools:
        model.selectedPool = max(0, min(model.selectedPool + delta, model.visiblePools.count - 1))
        model.selectedRunner = 0
    case .runners:
        model.selectedRunner = max(0, min(model.selectedRunner + delta, model.visibleRunners.count - 1))
    case .logs:
        model.follow = false
        model.logScroll = max(0, min(model.logScroll - delta, max(model.logLines.count - 1, 0)))
    }
}

private func handle(_ key: Key, in dialog: Model.Dialog, model: inout Model) -> [Effect] {
    switch dialog {
    case .help:
        if key == .escape || key == .character("?") || key == .character("q") || key == .enter { model.dialog = nil }
        return []
    case .confirm(var confirmation):
        switch key {
        case .escape, .character("n"), .character("N"):
            model.dialog = nil
        case .left, .right, .tab, .character("h"), .character("l"):
            confirmation.yes.toggle()
            model.dialog = .confirm(confirmation)
        case .character("y"), .character("Y"):
            model.dialog = nil
            return [.send(confirmation.request)]
        case .enter:
            model.dialog = nil
            return confirmation.yes ? [.send(confirmation.request)] : []
        default:
            break
        }
        return []
    case .scale(var form):
        switch key {
        case .escape:
            model.dialog = nil
            return []
        case .tab, .up, .down:
            form.field = 1 - form.field
        case .backspace:
            if form.field == 0 { _ = form.min.popLast() } else { _ = form.max.popLast() }
            form.edited.insert(form.field)
        case .character(let c) where c.isNumber:
            // The first digit replaces the prefilled value; later ones append.
            let fresh = form.edited.insert(form.field).inserted
            if form.field == 0 {
                form.min = (fresh ? "" : form.min) + String(c)
            } else {
                form.max = (fresh ? "" : form.max) + String(c)
            }
        case .enter:
            guard let min = Int(form.min), let max = Int(form.max) else {
                form.error = "min and max must be whole numbers"
                break
            }
            // The bounds are the pool's to judge (one rule for the API, flamectl and
            // flame-top): a refusal comes back as the command's error.
            model.dialog = nil
            return [.send(.scale(pool: form.pool, min: min, max: max))]
        default:
            break
        }
        model.dialog = .scale(form)
        return []
    }
}
