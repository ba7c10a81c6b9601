import FLAMEAdminProtocol
import FlameTopCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct UpdateTests {
    @Test func scaleFormIsPrefilledValidatedAndSendsTheRequest() {
        var model = fixtureModel()
        press([.character("s")], &model)
        guard case .scale(let form)? = model.dialog else { Issue.record("no scale form"); return }
        #expect(form.pool == "thumbnails" && form.min == "0" && form.max == "8")
        press([.backspace, .character("x")], &model)  // not a digit: ignored, min is empty
        #expect(update(&model, .key(.enter)).isEmpty)
        guard case .scale(let invalid)? = model.dialog else { Issue.record("form closed on invalid input"); return }
        #expect(invalid.error == "min and max must be whole numbers")
        // Bounds are the pool's to judge (one rule for the API, flamectl and flame-top).
        press([.character("9"), .tab, .backspace, .character("3")], &model)  // min 9 > max 3
        #expect(update(&model, .key(.enter)) == [.send(.scale(pool: "thumbnails", min: 9, max: 3))])
        #expect(model.dialog == nil)
    }

    @Test func killConfirmationDefaultsToNo() {
        var model = fixtureModel()
        press([.enter, .character("K")], &model)
        #expect(update(&model, .key(.enter)).isEmpty)  // Enter on the default (No) does nothing
        #expect(model.dialog == nil)
        press([.character("K"), .right], &model)
        #expect(update(&model, .key(.enter)) == [.send(.kill(runner: "thumbnails-1"))])
        press([.down, .character("d")], &model)
        #expect(update(&model, .key(.character("y"))) == [.send(.drainRunner("thumbnails-2"))])
    }

    /// An exited runner is listed after the live ones (its output is kept): `l` tails it, and
    /// drain and kill say it is gone instead of asking.
    @Test func anExitedRunnerCanBeReadButNotActedOn() {
        var model = fixtureModel()
        var snapshot = fixtureSnapshot(step: 20)
        snapshot.pools[0].exited = [ExitedRunnerSnapshot(id: "thumbnails-9", reason: "killed by signal 9 (SIGKILL)", exitedSecondsAgo: 4)]
        _ = update(&model, .snapshot(snapshot, at: 20))
        press([.enter, .down, .down, .down, .down], &model)
        #expect(model.currentRunner?.id == "thumbnails-9" && model.currentRunner?.state == "exited")
        press([.character("K")], &model)
        #expect(model.dialog == nil && model.status?.text.contains("has exited") == true)
        press([.character("d")], &model)
        #expect(model.dialog == nil)
        #expect(update(&model, .key(.character("l"))) == [.tailLogs(runner: "thumbnails-9")])
    }

    @Test func drainInThePoolsPaneDrainsThePool() {
        var model = fixtureModel()
        press([.down, .character("d")], &model)
        #expect(update(&model, .key(.character("y"))) == [.send(.drainPool("reports"))])
    }

    @Test func readOnlyRefusesActionsWithAMessage() {
        var model = fixtureModel()
        model.readOnly = true
        for key in ["s", "d", "K"] {
            #expect(update(&model, .key(.character(Character(key)))).isEmpty)
            #expect(model.dialog == nil)
            #expect(model.status?.isError == true)
        }
    }

    @Test func filterSortPauseAndIntervalBehave() {
        var model = fixtureModel()
        press([.character("/"), .character("r"), .character("e"), .character("p"), .enter], &model)
        #expect(model.visiblePools.map(\.name) == ["reports"])
        press([.escape], &model)
        #expect(model.visiblePools.count == 2)
        press([.enter, .character(">"), .character(">")], &model)
        #expect(model.runnerSort == .cpu)
        #expect(model.visibleRunners.first?.id == "thumbnails-1")
        press([.character("p")], &model)
        let before = model.snapshot
        _ = update(&model, .snapshot(fixtureSnapshot(step: 99), at: 99))
        #expect(model.snapshot == before)  // paused: data does not move
        for _ in 0..<10 { _ = update(&model, .key(.character("+"))) }
        #expect(model.interval == 0.1)
        for _ in 0..<10 { _ = update(&model, .key(.character("-"))) }
        #expect(model.interval == 60, "the slowest step is the longest interval --interval takes")
    }

    @Test func statusMessagesExpire() {
        var model = fixtureModel()
        _ = update(&model, .commandFinished(message: "runner thumbnails-1 killed", isError: false, at: 20))
        _ = update(&model, .tick(at: 24))
        #expect(model.status?.text == "runner thumbnails-1 killed")
        _ = update(&model, .tick(at: 25.1))
        #expect(model.status == nil)
    }

    @Test func logPaneTogglesAndFollowsTheSelectedRunner() {
        var model = fixtureModel()
        press([.enter], &model)
        #expect(update(&model, .key(.character("l"))) == [.tailLogs(runner: "thumbnails-1")])
        press([.pageUp], &model)
        #expect(!model.follow)
        press([.character("f")], &model)
        #expect(model.follow && model.logScroll == 0)
        #expect(update(&model, .key(.character("l"))) == [.tailLogs(runner: nil)])
        #expect(update(&model, .key(.character("q"))) == [.quit])
    }

    @Test func callsPerSecondComesFromSuccessiveSnapshots() {
        let model = fixtureModel()
        #expect(model.history["thumbnails"]?.callsPerSecond == 40)
        #expect(model.history["thumbnails"]?.queueDepth.count == 20)
    }
}

@Suite(.timeLimit(.minutes(1))) struct ClickTests {
    @Test func clickingARowSelectsItsPoolOrRunner() {
        var model = fixtureModel()
        let screen = view(model, width: 120, height: 40)
        let lines = screen.plainText.split(separator: "\n", omittingEmptySubsequences: false)
        let reportsRow = lines.firstIndex { $0.hasPrefix("reports ") }!
        _ = update(&model, .click(x: 3, y: reportsRow, width: 120, height: 40))
        #expect(model.currentPool?.name == "reports" && model.focus == .pools)

        _ = update(&model, .key(.up))  // back to thumbnails
        let runnerScreen = view(model, width: 120, height: 40).plainText.split(separator: "\n", omittingEmptySubsequences: false)
        let drainingRow = runnerScreen.firstIndex { $0.hasPrefix("thumbnails-10 ") }!
        _ = update(&model, .click(x: 5, y: drainingRow, width: 120, height: 40))
        #expect(model.currentRunner?.id == "thumbnails-10" && model.focus == .runners)

        // Header, blank rows and rows past the last runner select nothing.
        let before = model
        _ = update(&model, .click(x: 5, y: 0, width: 120, height: 40))
        _ = update(&model, .click(x: 5, y: 35, width: 120, height: 40))
        #expect(model == before)
    }
}

@Suite(.timeLimit(.minutes(1))) struct SelectionTests {
    private func snapshot(_ runners: [(String, Double)], pools: [String] = ["thumbnails", "reports"]) -> Snapshot {
        Snapshot(app: "a", pid: 1, uptimeSeconds: 1, pools: pools.map { name in
            PoolSnapshot(
                name: name, min: 0, max: 8, maxConcurrency: 4, queueDepth: 0, pendingBoots: 0, calls: .init(completed: 0, failed: 0, timedOut: 0),
                latency: .init(p50Us: 0, p95Us: 0, p99Us: 0, maxUs: 0), bootLatency: .init(p50Us: 0, maxUs: 0),
                runners: name == "thumbnails" ? runners.map { RunnerSnapshot(id: $0.0, state: "busy", pid: 1, host: "local", cpuPercent: $0.1,
                    rssBytes: 0, inFlight: 0, completed: 0, failed: 0, uptimeSeconds: 1, lastError: nil) } : [])
        })
    }

    /// Sorted by CPU, rows reorder every snapshot; the selection stays on the runner, not the row.
    @Test func selectionFollowsTheRunnerWhenRowsReorder() {
        var model = Model(socketPath: "/s")
        model.runnerSort = .cpu
        _ = update(&model, .snapshot(snapshot([("t-1", 90), ("t-2", 50), ("t-3", 10)]), at: 0))
        press([.enter, .down], &model)
        #expect(model.currentRunner?.id == "t-2")
        _ = update(&model, .snapshot(snapshot([("t-1", 5), ("t-2", 50), ("t-3", 80)]), at: 1))
        #expect(model.currentRunner?.id == "t-2")
        _ = update(&model, .snapshot(snapshot([("t-1", 5), ("t-2", 1), ("t-3", 80)]), at: 2))
        #expect(model.currentRunner?.id == "t-2")
    }

    /// When the selected runner is gone, the selection moves to a neighbour that exists.
    @Test func aVanishedRunnerLeavesTheSelectionOnANeighbour() {
        var model = Model(socketPath: "/s")
        model.runnerSort = .id
        _ = update(&model, .snapshot(snapshot([("t-1", 0), ("t-2", 0), ("t-3", 0)]), at: 0))
        press([.enter, .down, .down], &model)
        _ = update(&model, .snapshot(snapshot([("t-1", 0), ("t-2", 0)]), at: 1))
        #expect(model.currentRunner?.id == "t-2")
        press([.character("K"), .right], &model)
        #expect(update(&model, .key(.enter)) == [.send(.kill(runner: "t-2"))])
    }

    /// A pool added before the selected one does not move the selection to another pool.
    @Test func selectionFollowsThePoolWhenPoolsAreAdded() {
        var model = Model(socketPath: "/s")
        _ = update(&model, .snapshot(snapshot([], pools: ["b", "c"]), at: 0))
        press([.down], &model)
        #expect(model.currentPool?.name == "c")
        _ = update(&model, .snapshot(snapshot([], pools: ["a", "b", "c"]), at: 1))
        #expect(model.currentPool?.name == "c")
    }
}
