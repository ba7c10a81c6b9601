import FLAMETestSupport
import Foundation
import Testing

/// flame-top, the real binary, in tmux against a real flame-demo.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FlameTopEndToEndTests {
    let flameTop = TestRunner.sibling("flame-top")

    @Test func attachNavigateScaleKillResizeReconnectAndQuit() async throws {
        try await withDemoInTmux(scenario)
    }

    /// After `kill -STOP` of the parent, flame-top kept showing `● live` with frozen numbers.
    @Test func aStoppedParentIsShownStaleWithTheAgeOfItsData() async throws {
        try await withDemoInTmux { demo, tmux in
            try await tmux.start("\(flameTop) --socket \(demo.socket) --interval 500ms")
            try await tmux.waitFor("live")
            kill(demo.pid, SIGSTOP)
            defer { kill(demo.pid, SIGCONT) }
            try await tmux.waitFor("stale")
            try await tmux.waitFor("no data from the parent for")
            kill(demo.pid, SIGCONT)
            try await tmux.waitFor("live")
            try await tmux.keys("q")
        }
    }

    /// Runs `body` with a live flame-demo and a tmux server of its own; records its error
    /// as the test's, and always stops both.
    private func withDemoInTmux(_ body: (DemoParent, Tmux) async throws -> Void) async throws {
        let demo = DemoParent()
        try await demo.start()
        let tmux = Tmux()
        do {
            try await body(demo, tmux)
        } catch {
            Issue.record("the scenario failed: \(error)")
        }
        await tmux.kill()
        await demo.stop()
    }

    private func scenario(demo: DemoParent, tmux: Tmux) async throws {
        try await tmux.start("\(flameTop) --socket \(demo.socket) --interval 500ms")
        try await tmux.waitFor("thumbnails")
        try await tmux.waitFor("reports")
        try await tmux.waitFor("live")

        // A click on a pool's row selects it (rows: header 2, thumbnails 3, reports 4).
        try await tmux.click(x: 3, y: 4)
        try await tmux.waitFor("RUNNERS of reports")
        try await tmux.click(x: 3, y: 3)
        try await tmux.waitFor("RUNNERS of thumbnails")

        // Scale thumbnails to min 3 through the form and see real runners appear.
        try await tmux.keys("s")
        try await tmux.waitFor("scale thumbnails")
        try await tmux.keys("BSpace", "3", "Enter")
        try await tmux.waitFor("scaled to min 3")
        try await tmux.keys("Enter")  // into the runners pane
        try await tmux.waitFor("thumbnails-3")

        // Drain asks first; y confirms. Then the drained runner's row (its id, then a state)
        // leaves the runners table, so the kill below picks a runner that still exists. (The
        // status line may still name it for 5 s; it is no row.)
        try await tmux.keys("d")
        let drainDialog = try await tmux.waitFor("Drain runner thumbnails-")
        let drained = try #require(drainDialog.firstMatch(of: /Drain runner (thumbnails-\d+)/)?.1).description
        try await tmux.keys("y")
        try await tmux.waitFor("draining")
        let row = try Regex("(?m)^\(drained) +(booting|idle|busy|draining|exiting) ")
        try await tmux.waitUntil("\(drained) still listed") { !$0.contains(row) }

        // Kill asks first; the default answer is No. The parent's own event stream tells
        // what it did: nothing after No; after Yes, on the same runner, exactly one kill.
        // (The stream is live once it shows the event of a scale to the current size; its
        // subscription starts at a moment the test cannot see, so scale until one shows.)
        let events = try StreamingCommand(TestRunner.sibling("flamectl"), ["events", "--json", "--socket", demo.socket])
        try await events.waitForLine {
            _ = try await runCommand(TestRunner.sibling("flamectl"), ["scale", "thumbnails", "--min", "3", "--socket", demo.socket])
            try await Task.sleep(for: .milliseconds(50))
        } where: { $0.contains("\"kind\":\"scaled\"") }
        // The first row is a live runner (exited ones, kept for their logs, come last).
        try await tmux.keys("Up", "Up", "Up", "Up", "Up")
        try await tmux.keys("K")
        let dialog = try await tmux.waitFor("(SIGKILL)? Its calls fail.")
        let victim = try #require(dialog.firstMatch(of: /Kill runner (thumbnails-\d+)/)?.1).description
        try await tmux.keys("Enter")
        try await tmux.waitForAbsence("(SIGKILL)?")
        try await tmux.keys("K")
        try await tmux.waitFor("Kill runner \(victim) (SIGKILL)?")
        #expect(!events.lines.contains { $0.contains("\"kind\":\"killed\"") }, "No killed a runner: \(events.lines)")
        try await tmux.keys("Right", "Enter")
        try await tmux.waitFor("runner \(victim) killed")
        await events.waitForLine { $0.contains("\"kind\":\"killed\"") }
        let kills = events.lines.filter { $0.contains("\"kind\":\"killed\"") }
        #expect(kills.count == 1 && kills.first?.contains("\"runner\":\"\(victim)\"") == true, "\(kills)")
        await events.stop()

        // Logs in a split pane.
        try await tmux.keys("l")
        try await tmux.waitFor("LOG thumbnails-")

        // Many resizes: it keeps drawing.
        for (width, height) in [(80, 24), (60, 15), (200, 60), (20, 6), (100, 30), (120, 40)] {
            try await tmux.resize(width: width, height: height)
            try await Task.sleep(for: .milliseconds(100))
        }
        try await tmux.waitFor("flame-top flame-demo")

        // The parent dies: a banner, the last data greyed; it comes back: live again.
        try await demo.kill9()
        try await tmux.waitFor("disconnected")
        try await demo.start()
        try await tmux.waitFor("live", within: .seconds(20))

        // Quit: the process exits 0 and the terminal is restored (the shell sees EXITED=0).
        try await tmux.keys("q")
        let after = try await tmux.waitFor("EXITED=0")
        #expect(!after.contains("POOL"))
    }

    /// Filter, pause, refresh interval and themes on a live parent, in a direct-colour
    /// terminal where themes' #rrggbb arrive as 24-bit colour.
    @Test func filterPauseIntervalThemesAndTrueColour() async throws {
        try await withDemoInTmux { demo, tmux in
            try await tmux.start("\(flameTop) --socket \(demo.socket) --interval 1s --theme solarized-dark", term: "tmux-direct")
            try await tmux.waitFor("thumbnails")
            // solarized-dark's title is #93a1a1.
            let coloured = try await tmux.screenWithColours()
            #expect(coloured.contains("38;2;147;161;161"), "\(coloured.prefix(400).debugDescription)")

            try await tmux.keys("/", "r", "e", "p", "Enter")
            let filtered = try await tmux.waitFor("filter: rep")
            #expect(filtered.contains("reports") && !filtered.contains("thumbnails "))
            try await tmux.keys("Escape")
            try await tmux.waitFor("thumbnails ")

            try await tmux.keys("p")
            try await tmux.waitFor("paused")
            try await tmux.keys("p")
            try await tmux.waitFor("live")

            try await tmux.keys("+")
            try await tmux.waitFor("live 0.5s")
            try await tmux.keys("-", "-")
            try await tmux.waitFor("live 2.0s")

            try await tmux.keys("T")
            try await tmux.waitFor("theme ")
            #expect(!(try await tmux.screenWithColours().contains("38;2;147;161;161")))

            try await tmux.keys("q")
            try await tmux.waitFor("EXITED=0")
        }
    }

    @Test func withoutAParentItShowsTheBannerAndCtrlCQuitsCleanly() async throws {
        let tmux = Tmux()
        do {
            try await tmux.start("\(flameTop) --socket /tmp/flame-top-no-parent-\(getpid()).sock", width: 80, height: 24)
            try await tmux.waitFor("disconnected: cannot connect to /tmp/flame-top-no-parent-")
            try await tmux.keys("C-c")
            let after = try await tmux.waitFor("EXITED=0")
            #expect(!after.contains("disconnected"))
        } catch {
            Issue.record("\(error)")
        }
        await tmux.kill()
    }

    @Test func sigtermQuitsCleanly() async throws {
        let tmux = Tmux()
        do {
            try await tmux.start("\(flameTop) --socket /tmp/flame-top-no-parent-\(getpid()).sock", width: 80, height: 24)
            try await tmux.waitFor("disconnected")
            let pid = try #require(processes(named: flameTop, with: "flame-top-no-parent-\(getpid())").first)
            kill(pid, SIGTERM)
            try await tmux.waitFor("EXITED=0")
        } catch {
            Issue.record("\(error)")
        }
        await tmux.kill()
    }

    @Test func flameDemoRefusesANonPositiveRateSayingWhatItTakes() async throws {
        let result = try await runCommand(TestRunner.sibling("flame-demo"), ["--rate", "0"])
        #expect(result.status == 64)  // argument-parser's usage error
        #expect(result.stderr.contains("--rate must be more than 0"), "\(result.stderr)")
    }

    /// flame-top's usage errors exited 64 (argument-parser's), flamectl's 2: both 2 now.
    @Test func usageErrorsExit2AndVersionIsKnown() async throws {
        let usage = try await runCommand(flameTop, ["--interval", "5ms"])
        #expect(usage.status == 2 && usage.stderr.contains("--interval must be between"), "\(usage)")
        let version = try await runCommand(flameTop, ["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty, "\(version)")
    }

    /// `TERM=dumb` or a non-terminal gave garbage; an unknown TERM a bare ncurses error
    /// without `flame-top:`. Each is now a refusal saying what to do (under `script`, which
    /// gives flame-top a pseudo-terminal of the TERM asked for).
    @Test func withoutAUsableTerminalItRefusesSayingWhy() async throws {
        let piped = try await runCommand(flameTop, ["--socket", "/nonexistent.sock"])
        #expect(piped.status == 1 && piped.stderr.contains("flame-top: the dashboard needs a terminal"), "\(piped)")
        for (term, expected) in [("dumb", "flame-top: TERM=dumb cannot draw the dashboard"), ("no-such-terminal", "flame-top: unknown terminal type TERM=no-such-terminal")] {
            var environment = ProcessInfo.processInfo.environment
            environment["TERM"] = term
            let result = try await runCommand(
                "/usr/bin/script", ["-qec", "\(flameTop) --socket /nonexistent.sock", "/dev/null"], environment: environment)
            #expect(result.stdout.contains(expected), "\(term): \(result)")
            #expect(!result.stdout.contains("Error opening terminal"), "\(term): \(result.stdout)")
        }
    }

    @Test func badThemeFailsFastNamingFileAndLine() async throws {
        let path = "/tmp/flame-top-bad-\(UUID().uuidString.prefix(8)).theme"
        try "text = default\nqueue = not-a-colour\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let result = try await runCommand(TestRunner.sibling("flame-top"), ["--theme", path, "--once", "--json", "--socket", "/nonexistent.sock"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path):2:"), "\(result.stderr)")
    }
}

/// Pids of processes running `executable` whose command line contains `text`.
func processes(named executable: String, with text: String) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = pid_t(entry),
            let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { return nil }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return words.first == executable && words.contains(where: { $0.contains(text) }) ? pid : nil
    }
}
