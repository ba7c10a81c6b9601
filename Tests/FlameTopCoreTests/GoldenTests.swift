import FLAMEAdminProtocol
import FlameTopCore
import Foundation
import Testing

/// A parent with two pools: thumbnails (busy, one draining, one booting) and reports.
/// thumbnails-2 runs on a Slurm node (host and job shown on wide screens).
func fixtureSnapshot(step: Int = 0) -> Snapshot {
    func runner(_ id: String, _ state: String, pid: Int32?, cpu: Double, rss: UInt64, inFlight: Int, done: Int, failed: Int) -> RunnerSnapshot {
        let onNode = id == "thumbnails-2"
        return RunnerSnapshot(id: id, state: state, pid: pid, host: onNode ? "n2" : state == "booting" ? "-" : "local", cpuPercent: cpu, rssBytes: rss, inFlight: inFlight,
                       completed: done, failed: failed, uptimeSeconds: 125.5, lastError: failed > 0 ? "image 7 is corrupt" : nil,
                       clusterJob: onNode ? "1042" : nil)
    }
    return Snapshot(
        app: "flame-demo", pid: 4242, uptimeSeconds: 3725,
        pools: [
            PoolSnapshot(
                name: "thumbnails", min: 0, max: 8, maxConcurrency: 4, queueDepth: step % 4, pendingBoots: 1,
                calls: .init(completed: 1200 + step * 40, failed: 3, timedOut: 1),
                latency: .init(p50Us: 850, p95Us: 2100, p99Us: 4000 + UInt64(step % 5) * 900, maxUs: 9000),
                bootLatency: .init(p50Us: 3500, maxUs: 9000),
                runners: [
                    runner("thumbnails-1", "busy", pid: 4250, cpu: 97.5, rss: 11_534_336, inFlight: 4, done: 310, failed: 0),
                    runner("thumbnails-2", "idle", pid: 4251, cpu: 0.4, rss: 10_485_760, inFlight: 0, done: 290, failed: 2),
                    runner("thumbnails-10", "draining", pid: 4260, cpu: 35, rss: 12_582_912, inFlight: 1, done: 12, failed: 0),
                    runner("thumbnails-11", "booting", pid: nil, cpu: 0, rss: 0, inFlight: 0, done: 0, failed: 0),
                ]),
            PoolSnapshot(
                name: "reports", min: 1, max: 3, maxConcurrency: 8, queueDepth: 0, pendingBoots: 0,
                calls: .init(completed: 240 + step * 8, failed: 0, timedOut: 2),
                latency: .init(p50Us: 210_000, p95Us: 390_000, p99Us: 395_000, maxUs: 5_000_000),
                bootLatency: .init(p50Us: 4100, maxUs: 4100),
                runners: [runner("reports-1", "busy", pid: 4244, cpu: 3.2, rss: 11_000_000, inFlight: 3, done: 240, failed: 0)]),
        ])
}

/// A model fed 20 snapshots a second apart, as the dashboard would be.
func fixtureModel() -> Model {
    var model = Model(socketPath: "/run/user/1000/flame/flame-demo-4242.sock")
    _ = update(&model, .connected(ServerHello(app: "flame-demo", pid: 4242, readOnly: false)))
    for step in 0..<20 { _ = update(&model, .snapshot(fixtureSnapshot(step: step), at: Double(step))) }
    return model
}

func press(_ keys: [Key], _ model: inout Model) {
    for key in keys { _ = update(&model, .key(key)) }
}

/// The main screens of flame-top, each rendered at 80×24 and 120×40.
let goldenStates: [(String, @Sendable () -> Model)] = [
    ("pools", { fixtureModel() }),
    ("runners", {
        var model = fixtureModel()
        press([.enter, .down], &model)
        return model
    }),
    ("log-split", {
        var model = fixtureModel()
        press([.enter, .character("l")], &model)
        _ = update(&model, .logLines((1...30).map { LogLine(source: "thumbnails-1", stream: $0 % 3 == 0 ? "stderr" : "stdout", level: nil, line: "thumbnail \($0): 128x128 done") }, dropped: 12))
        return model
    }),
    ("help", {
        var model = fixtureModel()
        press([.character("?")], &model)
        return model
    }),
    ("scale-form", {
        var model = fixtureModel()
        press([.character("s"), .tab, .backspace, .character("5")], &model)
        return model
    }),
    ("confirm-kill", {
        var model = fixtureModel()
        press([.enter, .character("K")], &model)
        return model
    }),
    ("disconnected", {
        var model = fixtureModel()
        _ = update(&model, .disconnected(reason: "connection reset by peer", retryInSeconds: 2, at: 21))
        return model
    }),
    ("exited-runner", {
        var model = fixtureModel()
        var snapshot = fixtureSnapshot(step: 20)
        snapshot.pools[0].exited = [ExitedRunnerSnapshot(id: "thumbnails-9", reason: "runner thumbnails-9 was killed by signal 9 (SIGKILL)", exitedSecondsAgo: 4)]
        _ = update(&model, .snapshot(snapshot, at: 20))
        press([.enter, .down, .down, .down, .down], &model)
        return model
    }),
    ("stale", {
        var model = fixtureModel()
        _ = update(&model, .tick(at: 31))
        return model
    }),
    ("empty", {
        var model = Model(socketPath: "/tmp/flame-0/idle-1.sock")
        _ = update(&model, .snapshot(Snapshot(app: "idle", pid: 1, uptimeSeconds: 5, pools: []), at: 0))
        return model
    }),
]

let goldensDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

@Suite(.timeLimit(.minutes(1))) struct GoldenTests {
    static let cases: [(String, Int, Int)] = goldenStates.flatMap { state in [(state.0, 80, 24), (state.0, 120, 40)] }

    /// Compares the rendered characters and roles with `Goldens/NAME-WxH.txt`.
    /// `UPDATE_GOLDENS=1 swift test --filter GoldenTests` rewrites them after a deliberate change.
    @Test(arguments: cases)
    func screenMatchesItsGolden(_ name: String, _ width: Int, _ height: Int) throws {
        let model = goldenStates.first { $0.0 == name }!.1()
        let screen = view(model, width: width, height: height)
        let rendered = screen.plainText + "\n--- roles ---\n" + screen.roleMap + "\n"
        let file = goldensDirectory.appendingPathComponent("\(name)-\(width)x\(height).txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDENS"] == "1" {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == golden, "\(name) at \(width)x\(height) differs from its golden:\n\(screen.plainText)")
    }

    @Test func asciiFallbackUsesNoWideGlyphs() {
        var model = fixtureModel()
        press([.enter, .character("l")], &model)
        let screen = view(model, width: 120, height: 40, unicode: false)
        let nonASCII = screen.plainText.unicodeScalars.filter { !$0.isASCII }
        #expect(nonASCII.isEmpty)
    }

    @Test(arguments: [(20, 6), (19, 5), (1, 1), (0, 0), (300, 100)])
    func anySizeRendersWithoutTrapping(_ width: Int, _ height: Int) {
        var model = fixtureModel()
        press([.enter, .character("l"), .character("?")], &model)
        let screen = view(model, width: width, height: height)
        #expect(screen.width == max(width, 0) && screen.height == max(height, 0))
    }
}
