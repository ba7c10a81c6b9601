import ArgumentParser
import FLAMEAdminClient
import FLAMEAdminProtocol
import FLAMEToolSupport
import FlameTopCore
import Foundation
import Synchronization

/// Set by SIGTERM/SIGHUP (an atomic store is async-signal-safe); the UI loop, which wakes
/// every 50 ms, then quits through the normal path that restores the terminal.
let terminationRequested = Atomic<Bool>(false)

/// `flame-top`: a live dashboard of a running flame-swift parent.
@main
struct FlameTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flame-top",
        abstract: "Watch and operate a running flame-swift parent: pools, runners, queue, latency, logs.",
        discussion: """
            Attaches to the parent's admin socket (the only running parent when --socket is not \
            given). Press ? inside for keys. Themes: --theme NAME|PATH, FLAME_TOP_THEME, \
            ~/.config/flame-top/themes, the installed themes, the repository's themes/.
            """,
        version: flameSwiftVersion)

    static func main() async {
        await mainWithToolExitCodes(name: "flame-top")
    }

    @Option(help: "The parent's admin socket.") var socket: String?
    @Option(help: "Colour theme: a name or a path to a .theme file.") var theme: String?
    @Option(help: "Refresh interval, e.g. 1s, 500ms, 2 (seconds); at least 100ms.") var interval: String = "1s"
    @Flag(help: "Hide and refuse scale, drain and kill.") var readonly = false
    @Flag(help: "Print one snapshot and exit (with --json; no terminal needed).") var once = false
    @Flag(help: "With --once: print the snapshot as JSON.") var json = false

    func validate() throws {
        guard let seconds = Self.seconds(interval), seconds >= 0.1, seconds <= 60 else {
            throw ValidationError("--interval must be between 100ms and 60s, e.g. 1s or 500ms; got \(interval)")
        }
        if json && !once { throw ValidationError("--json goes with --once") }
        if once && !json { throw ValidationError("--once prints JSON: add --json") }
    }

    /// Several parents run and none was named: list them and read a choice (on a terminal).
    static func pickParent() -> String? {
        let parents = SocketLocation.discover().parents.filter(\.isAlive)
        print("Several flame parents are running:")
        for (index, parent) in parents.enumerated() {
            print("  \(index + 1)) \(parent.app)  pid \(parent.pid)  \(parent.path)")
        }
        print("Attach to which one? [1-\(parents.count)] ", terminator: "")
        guard let line = readLine(), let choice = Int(line.trimmingCharacters(in: .whitespaces)),
            parents.indices.contains(choice - 1)
        else { return nil }
        return parents[choice - 1].path
    }

    static func seconds(_ text: String) -> Double? { Units.seconds(in: text) }

    func run() async throws {
        // The theme is loaded and validated first, in every mode, so a bad one fails fast.
        let themes = ThemeCatalog()
        let chosen = theme ?? ProcessInfo.processInfo.environment["FLAME_TOP_THEME"] ?? "default"
        let loaded: Theme
        do {
            loaded = try themes.loader.load(chosen)
        } catch {
            FileHandle.standardError.write(Data("flame-top: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let path: String
        do {
            path = try AdminClient.resolveSocket(socket)
        } catch .ambiguous(let message) where !once && isatty(0) != 0 && isatty(1) != 0 {
            guard let picked = Self.pickParent() else {
                FileHandle.standardError.write(Data("flame-top: \(message)\n".utf8))
                throw ExitCode(2)
            }
            path = picked
        } catch {
            FileHandle.standardError.write(Data("flame-top: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        if once {
            do {
                let client = try await AdminClient.connect(path: path, client: "flame-top", timeout: .seconds(5))
                guard case .snapshot(let snapshot) = try await client.request(.snapshot) else { throw ExitCode(1) }
                print(try AdminCodec.json(snapshot))
                client.close()
                return
            } catch let error as AdminClientError {
                FileHandle.standardError.write(Data("flame-top: \(error)\n".utf8))
                throw ExitCode(error.exitCode)
            }
        }
        if let problem = Terminal.problem() {
            FileHandle.standardError.write(Data("flame-top: \(problem)\n".utf8))
            throw ExitCode(1)
        }
        let app = Dashboard(path: path, theme: loaded, catalog: themes, interval: Self.seconds(interval)!, readOnly: readonly)
        if let problem = await app.run() {
            FileHandle.standardError.write(Data("flame-top: \(problem)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Where themes are found, in order.
struct ThemeCatalog {
    let directories: [String]
    var loader: ThemeLoader {
        ThemeLoader(searchPaths: directories) { path in try? String(contentsOfFile: path, encoding: .utf8) }
    }

    init() {
        let environment = ProcessInfo.processInfo.environment
        let config = environment["XDG_CONFIG_HOME"] ?? (environment["HOME"].map { $0 + "/.config" } ?? "")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        directories = [
            config + "/flame-top/themes",
            executable.appendingPathComponent("../share/flame-top/themes").standardized.path,
            executable.appendingPathComponent("../../../themes").standardized.path,  // .build/<triple>/<config>/
            FileManager.default.currentDirectoryPath + "/themes",
        ]
    }

    /// Theme names available, for cycling with T.
    var names: [String] {
        var seen: [String] = []
        for directory in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for file in files.sorted() where file.hasSuffix(".theme") {
                let name = String(file.dropLast(6))
                if !seen.contains(name) { seen.append(name) }
            }
        }
        return seen
    }
}

/// The interactive loop: one thread owns the model and the terminal.
struct Dashboard {
    let path: String
    var theme: Theme
    let catalog: ThemeCatalog
    let interval: Double
    let readOnly: Bool

    init(path: String, theme: Theme, catalog: ThemeCatalog, interval: Double, readOnly: Bool) {
        self.path = path
        self.theme = theme
        self.catalog = catalog
        self.interval = interval
        self.readOnly = readOnly
    }

    /// Runs until quit; nil, or why the terminal could not be started.
    func run() async -> String? {
        let inbox = Inbox()
        let link = Link(path: path, inbox: inbox, interval: interval)
        let connection = Task.detached { await link.run() }
        let problem = await withCheckedContinuation { (done: CheckedContinuation<String?, Never>) in
            Thread.detachNewThread {
                done.resume(returning: loop(inbox: inbox, link: link))
            }
        }
        connection.cancel()
        return problem
    }

    private func loop(inbox: Inbox, link: Link) -> String? {
        signal(SIGTERM) { _ in terminationRequested.store(true, ordering: .relaxed) }
        signal(SIGHUP) { _ in terminationRequested.store(true, ordering: .relaxed) }
        let terminal = Terminal()
        if let problem = terminal.start() { return problem }
        defer { terminal.stop() }
        var theme = self.theme
        terminal.apply(theme)
        var model = Model(socketPath: path, readOnly: readOnly, interval: interval)
        model.themeName = theme.name
        var lastTick = 0.0
        var dirty = true
        while !terminationRequested.load(ordering: .relaxed) {
            var actions = inbox.take()
            switch terminal.read() {
            case .key(let key)?: actions.append(.key(key))
            case .click(let x, let y)?: actions.append(.click(x: x, y: y, width: terminal.width, height: terminal.height))
            case .resize?:
                terminal.invalidate()
                dirty = true
            case nil: break
            }
            let now = monotonicSeconds()
            if now - lastTick >= 0.25 {
                actions.append(.tick(at: now))
                lastTick = now
            }
            for action in actions {
                let before = model
                for effect in update(&model, action) {
                    switch effect {
                    case .quit: return nil
                    case .send(let request): link.send(request)
                    case .tailLogs(let runner): link.tail(runner)
                    case .setInterval(let seconds): link.setInterval(seconds)
                    case .cycleTheme:
                        let names = catalog.names
                        if let index = names.firstIndex(of: theme.name), !names.isEmpty,
                            let next = try? catalog.loader.load(names[(index + 1) % names.count])
                        {
                            theme = next
                            terminal.apply(theme)
                            model.themeName = theme.name
                            model.status = .init(text: "theme \(theme.name)", isError: false, until: now + 2)
                        }
                    }
                }
                // A tick only moves the clock; it changes the screen only when a status expires.
                if case .tick = action {
                    // A stale screen shows the data's age, which a tick moves.
                    if model.status != before.status || model.isStale || model.isStale != before.isStale { dirty = true }
                } else if model != before {
                    dirty = true
                }
            }
            if dirty {
                terminal.draw(view(model, width: terminal.width, height: terminal.height, unicode: terminal.unicode))
                dirty = false
            }
        }
        return nil
    }
}
