import FLAMEAdminProtocol
import FlameTopCore
import Testing

/// flame-top bugs reported by users, each as the keys they pressed.
@Suite(.timeLimit(.minutes(1))) struct ReportedBugsTests {
    /// `l`, then `j`: the title said thumbnails-2 while the lines were still thumbnails-1's
    /// (the pane kept tailing the runner it was opened on).
    @Test func movingInTheRunnersPaneTailsTheNewRunner() {
        var model = fixtureModel()
        press([.enter], &model)
        #expect(update(&model, .key(.character("l"))) == [.tailLogs(runner: "thumbnails-1")])
        #expect(update(&model, .key(.character("j"))) == [.tailLogs(runner: "thumbnails-2")])
        #expect(update(&model, .key(.up)) == [.tailLogs(runner: "thumbnails-1")])
        // In the pools pane, another pool's first runner is another runner too.
        press([.escape], &model)
        #expect(update(&model, .key(.down)) == [.tailLogs(runner: "reports-1")])
    }

    /// `K` in the pools pane offered to kill a runner that was not highlighted.
    @Test func killInThePoolsPaneAsksForARunnerFirst() {
        var model = fixtureModel()
        press([.character("K")], &model)
        #expect(model.dialog == nil)
        #expect(model.status?.text.contains("select a runner") == true, "\(String(describing: model.status))")
    }

    /// Typing into the prefilled scale form appended ("0", then 5: `05`).
    @Test func typingIntoAPrefilledFieldReplacesIt() {
        var model = fixtureModel()
        press([.character("s"), .character("5"), .tab, .character("7")], &model)
        guard case .scale(let form)? = model.dialog else { Issue.record("no form"); return }
        #expect(form.min == "5" && form.max == "7", "\(form)")
        press([.tab, .character("2")], &model)  // an edited field takes more digits
        guard case .scale(let edited)? = model.dialog else { Issue.record("no form"); return }
        #expect(edited.min == "52")
    }

    /// With `--interval 60s`, `-` ("slower") went to 10 s, and `+`/`-` were not inverse steps.
    @Test func intervalStepsAreInverseAndKeepTheRange() {
        var model = fixtureModel()
        model.interval = 60
        #expect(update(&model, .key(.character("-"))) == [.setInterval(60)], "slower than the slowest stays")
        #expect(update(&model, .key(.character("+"))) == [.setInterval(30)])
        model.interval = 1
        for _ in 0..<3 { _ = update(&model, .key(.character("+"))) }
        #expect(model.interval == 0.1, "1 → 0.5 → 0.2 → 0.1")
        for _ in 0..<3 { _ = update(&model, .key(.character("-"))) }
        #expect(model.interval == 1, "back where it started")
        model.interval = 0.7  // off the ladder (--interval 700ms): the next step either way
        #expect(update(&model, .key(.character("-"))) == [.setInterval(1)])
    }
}
