import FLAMEAdminProtocol
import FlameTopCore
import Testing

@Suite struct UpdateTests {
    @Test func scaleFormIsPrefilledValidatedAndSendsTheRequest() {
        var model = fixtureModel()
        press([.character("s")], &model)
        guard case .scale(let form)? = model.dialog else { Issue.record("no scale form"); return }
        #expect(form.pool == "thumbnails" && form.min == "0" && form.max == "8")
        press([.backspace, .character("9"), .tab, .backspace, .character("3")], &model)  // min 9 > max 3
        #expect(update(&model, .key(.enter)).isEmpty)
        guard case .scale(let invalid)? = model.dialog else { Issue.record("form closed on invalid input"); return }
        #expect(invalid.error == "need 0 ≤ min ≤ max and max ≥ 1")
        press([.tab, .backspace, .character("2")], &model)
        #expect(update(&model, .key(.enter)) == [.send(.scale(pool: "thumbnails", min: 2, max: 3))])
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
        #expect(model.interval == 10)
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

@Suite struct ClickTests {
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
