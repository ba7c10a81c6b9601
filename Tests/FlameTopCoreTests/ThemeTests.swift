import FlameTopCore
import Foundation
import Testing

/// The repository's themes/ folder, found from this source file.
let themesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("themes").path

func fileReader() -> @Sendable (String) -> String? {
    { path in try? String(contentsOfFile: path, encoding: .utf8) }
}

func memoryReader(_ files: [String: String]) -> @Sendable (String) -> String? {
    { files[$0] }
}

@Suite(.timeLimit(.minutes(1))) struct ThemeTests {
    static let shipped = ["default", "light", "solarized-dark", "high-contrast", "monochrome", "colorblind"]

    @Test(arguments: shipped)
    func everyShippedThemeLoadsAndSetsEveryRole(_ name: String) throws {
        let theme = try ThemeLoader(searchPaths: [themesDirectory], read: fileReader()).load(name)
        #expect(theme.name == name)
        let missing = Role.allCases.filter { theme.styles[$0] == nil }
        #expect(missing.isEmpty, "\(name) leaves \(missing) to fall back to text")
    }

    @Test func valuesParseColoursBackgroundsAndAttributes() throws {
        let loader = ThemeLoader(searchPaths: ["/t"], read: memoryReader([
            "/t/x.theme": "# comment\nrunner.busy = #ff8800 on 17 bold underline\nqueue = bright-red\ntext = default on black\ndim = dim\n"
        ]))
        let theme = try loader.load("x")
        #expect(theme.style(.runnerBusy) == Style(foreground: .rgb(255, 136, 0), background: .indexed(17), attributes: [.bold, .underline]))
        #expect(theme.style(.queue).foreground == .ansi(9))
        #expect(theme.style(.text).background == .ansi(0))
        #expect(theme.style(.dim).attributes == [.dim])
        #expect(theme.style(.banner) == theme.style(.text))  // unset roles look like text
    }

    @Test func inheritsTakesTheParentThenOverrides() throws {
        let loader = ThemeLoader(searchPaths: ["/t"], read: memoryReader([
            "/t/base.theme": "queue = red\ntext = white\n",
            "/t/child.theme": "inherits = base\nqueue = green bold\n",
        ]))
        let theme = try loader.load("child")
        #expect(theme.style(.queue) == Style(foreground: .ansi(2), attributes: [.bold]))
        #expect(theme.style(.text).foreground == .ansi(7))
    }

    @Test func badFilesAreErrorsNamingFileAndLine() {
        let files = [
            "/t/a.theme": "text = default\nqueue = chartreuse\n",
            "/t/b.theme": "text = default\nno equals sign here\n",
            "/t/c.theme": "\n\nrunner.sleepy = red\n",
            "/t/d.theme": "inherits = e\n",
            "/t/e.theme": "inherits = d\n",
            "/t/f.theme": "queue = red on\n",
        ]
        let loader = ThemeLoader(searchPaths: ["/t"], read: memoryReader(files))
        func error(_ name: String) -> ThemeError? {
            do { _ = try loader.load(name) } catch { return error }
            return nil
        }
        #expect(error("a")?.description.hasPrefix("/t/a.theme:2: `chartreuse` is not a colour") == true)
        #expect(error("b")?.description == "/t/b.theme:2: expected `key = value`, got `no equals sign here`")
        #expect(error("c")?.description.hasPrefix("/t/c.theme:3: unknown role `runner.sleepy`") == true)
        #expect(error("d")?.message.contains("cycle") == true)
        #expect(error("f")?.line == 1)
        #expect(error("nope")?.message.contains("no theme named nope") == true)
        #expect(error("/t/missing.theme")?.description == "/t/missing.theme: no such theme file")
    }

    @Test func coloursDegradeToWhatTheTerminalShows() {
        let orange = ThemeColor.rgb(255, 135, 0)
        #expect(orange.degraded(to: .trueColor) == orange)
        #expect(orange.directColorNumber == 0xFF8700)
        #expect(ThemeColor.ansi(1).directColorNumber == 1)
        #expect(ThemeColor.ansi(9).directColorNumber == 0xFF0000)
        #expect(ThemeColor.indexed(208).directColorNumber == 0xFF8700)
        #expect(ThemeColor.indexed(244).directColorNumber == 0x808080)
        #expect(ThemeColor.rgb(0, 0, 3).directColorNumber == 8)
        #expect(ThemeColor.terminalDefault.directColorNumber == -1)
        #expect(orange.degraded(to: .indexed256) == .indexed(208))
        #expect(orange.degraded(to: .ansi16) == .ansi(11))
        #expect(orange.degraded(to: .monochrome) == .terminalDefault)
        #expect(ThemeColor.rgb(128, 128, 128).degraded(to: .indexed256) == .indexed(244))
        #expect(ThemeColor.indexed(196).degraded(to: .ansi16) == .ansi(9))
        let theme = Theme(name: "t", styles: [.selection: Style(foreground: .ansi(0), background: .rgb(1, 2, 3))])
        let mono = theme.degraded(to: .monochrome)
        #expect(mono.style(.selection) == Style(attributes: [.reverse]))
    }
}
