import ArgumentParser
import FLAMEAdminClient
import FLAMEAdminProtocol
import FLAMEToolSupport
#if canImport(Glibc)
import Glibc
#endif

/// `flamectl`: the admin socket of a running flame parent, from the shell.
/// Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 cannot connect.
@main
struct FlameCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flamectl",
        abstract: "Inspect and operate a running flame-swift parent through its admin socket.",
        discussion: """
            With one parent running, it is found in the socket directory; otherwise pass \
            --socket or set FLAME_ADMIN_SOCKET. Exit codes: 0 ok, 1 refused or failed, \
            2 usage, 3 cannot connect.
            """,
        version: flameSwiftVersion,
        subcommands: [List.self, Status.self, Scale.self, Drain.self, Kill.self, Logs.self, Events.self])

    static func main() async {
        await mainWithToolExitCodes(name: "flamectl")
    }

    /// Without a command there is nothing to do: a usage error (exit 2), with the commands.
    func run() async throws {
        throw ValidationError("name a command: list, status, scale, drain, kill, logs or events (see --help)")
    }
}

/// Options every command that talks to a parent takes.
struct Connection: ParsableArguments {
    @Option(help: "The admin socket (default: the only running parent, or FLAME_ADMIN_SOCKET).")
    var socket: String?

    @Option(
        help: ArgumentHelp(
            "How long the parent may take to answer, e.g. 5s, 500ms (exit 3 past it). With -f and events: until the first reply; none while lines flow.",
            valueName: "duration"))
    var timeout = "5s"

    var timeoutDuration: Duration { .milliseconds(Int64((Units.seconds(in: timeout) ?? 5) * 1000)) }

    func validate() throws {
        guard let seconds = Units.seconds(in: timeout), seconds > 0, seconds <= 3600 else {
            throw ValidationError("--timeout must be a duration between 1ms and 1h, e.g. 5s or 500ms; got \(timeout)")
        }
    }

    func connect() async throws -> AdminClient {
        try await AdminClient.connect(path: try AdminClient.resolveSocket(socket), client: "flamectl", timeout: timeoutDuration)
    }

    /// `request`, answered within the timeout.
    func request(_ request: AdminRequest, on client: AdminClient) async throws -> AdminReply {
        let deadline = client.deadline(after: timeoutDuration)
        defer { deadline.cancel() }
        return try await client.request(request)
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the flame parents with an admin socket in the socket directory.")

    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let discovery = SocketLocation.discover()
        for refused in discovery.refused { printError("flamectl: refusing \(refused.directory): \(refused.problem)\n") }
        let parents = discovery.parents
        if json {
            print(try AdminCodec.json(parents.map { ListedParent(app: $0.app, pid: $0.pid, path: $0.path, alive: $0.isAlive) }))
            return
        }
        guard !parents.isEmpty else {
            print("no flame parents in \(SocketLocation.directories().joined(separator: " or "))")
            return
        }
        print(Table(["APP", "PID", "STATE", "SOCKET"], parents.map { [$0.app, "\($0.pid)", $0.isAlive ? "running" : "stale", $0.path] }).rendered)
    }
}

/// `flamectl logs --json`'s last line for a runner that exited.
struct RunnerExit: Encodable {
    var runner: String
    var exited: String

    init(runner: String, reason: String) {
        self.runner = runner
        self.exited = reason
    }
}

/// One row of `flamectl list --json`.
struct ListedParent: Encodable {
    var app: String
    var pid: Int32
    var path: String
    var alive: Bool
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show pools and runners (--json: the snapshot, as documented in docs/ADMIN-PROTOCOL.md).")

    @OptionGroup var connection: Connection
    @Flag(help: "Print the snapshot as JSON.") var json = false

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        guard case .snapshot(let snapshot) = try await connection.request(.snapshot, on: client) else {
            throw AdminClientError.refused("the parent did not answer with a snapshot")
        }
        print(json ? try AdminCodec.json(snapshot) : StatusView.render(snapshot))
    }
}

struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Change a pool's min and/or max runners.")

    @OptionGroup var connection: Connection
    @Argument(help: "The pool.") var pool: String
    // Unconditional: `--min -1` is a value the parent refuses with its reason, not "Missing value".
    @Option(parsing: .unconditional, help: "New minimum runners.") var min: Int?
    @Option(parsing: .unconditional, help: "New maximum runners.") var max: Int?

    func validate() throws {
        guard min != nil || max != nil else { throw ValidationError("give --min, --max or both") }
    }

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        try await printOK(connection.request(.scale(pool: pool, min: min, max: max), on: client))
    }
}

struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drain a pool (every runner) or one runner: finish what runs, take nothing new, exit.")

    @OptionGroup var connection: Connection
    @Argument(help: "A pool name or a runner id.") var target: String

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        guard case .snapshot(let snapshot) = try await connection.request(.snapshot, on: client) else { return }
        let isPool = snapshot.pools.contains { $0.name == target }
        try await printOK(connection.request(isPool ? .drainPool(target) : .drainRunner(target), on: client))
    }
}

struct Kill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Kill a runner now (SIGKILL); its calls fail.")

    @OptionGroup var connection: Connection
    @Argument(help: "The runner id.") var runner: String

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        try await printOK(connection.request(.kill(runner: runner), on: client))
    }
}

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a runner's output (or the parent's log with --parent), then follow with -f.")

    @OptionGroup var connection: Connection
    @Argument(help: "The runner id (omit with --parent).") var runner: String?
    @Flag(help: "The parent's own log instead of a runner's output.") var parent = false
    @Flag(name: .shortAndLong, help: "Keep printing new lines.") var follow = false
    @Option(name: [.customShort("n"), .long], help: "Lines of backlog.") var lines = 100
    @Flag(help: "Print each line as JSON.") var json = false

    func validate() throws {
        if parent == (runner != nil) { throw ValidationError("name a runner, or pass --parent") }
        if lines < 0 { throw ValidationError("-n must be 0 or more") }
    }

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        let source: LogSource = parent ? .parent : .runner(runner!)
        // Until the backlog's first line (or its end) arrives; not while lines flow.
        var deadline: Task<Void, Never>? = client.deadline(after: connection.timeoutDuration)
        defer { deadline?.cancel() }
        for try await reply in client.stream(.logs(source: source, lines: lines, follow: follow)) {
            deadline?.cancel()
            deadline = nil
            switch reply {
            case .log(let line):
                print(json ? try AdminCodec.json(line) : line.line)
                fflush(nil)
            case .logsEnd(let dropped):
                if dropped > 0 && !json { printError("[\(dropped) older lines were dropped]\n") }
                if !follow { return }
            case .dropped(let count):
                printError("[\(count) lines dropped: reading too slowly]\n")
            case .runnerExited(let runner, let reason):
                if json {
                    print(try AdminCodec.json(RunnerExit(runner: runner, reason: reason)))
                } else {
                    printError("[\(runner) exited: \(reason)]\n")
                }
                if follow { return }
            default:
                continue
            }
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print pool events as they happen (runner booted/exited, boot failed, scaled, drained, killed, call timed out).")

    @OptionGroup var connection: Connection
    @Flag(help: "Print each event as JSON.") var json = false

    func run() async throws {
        let client = try await connection.connect()
        defer { client.close() }
        // Until the subscription is confirmed; events may then be minutes apart.
        var deadline: Task<Void, Never>? = client.deadline(after: connection.timeoutDuration)
        defer { deadline?.cancel() }
        for try await reply in client.stream(.subscribe(snapshots: false, intervalMilliseconds: 1000, events: true)) {
            deadline?.cancel()
            deadline = nil
            switch reply {
            case .event(let event):
                if json {
                    print(try AdminCodec.json(event))
                } else {
                    print("\(clockTime(event.time))  \(event.kind.padding(14))  \(event.pool.padding(12))  \(event.message)")
                }
                fflush(nil)
            default:
                continue
            }
        }
    }
}

func printOK(_ reply: AdminReply) throws {
    if case .ok(let message) = reply { print(message) }
}

func clockTime(_ seconds: Double) -> String {
    var time = time_t(seconds)
    var parts = tm()
    localtime_r(&time, &parts)
    return String(format2: parts.tm_hour) + ":" + String(format2: parts.tm_min) + ":" + String(format2: parts.tm_sec)
}

extension String {
    init(format2 value: Int32) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }

    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Writes `text` to standard error.
func printError(_ text: String) { writeToStandardError(text) }
