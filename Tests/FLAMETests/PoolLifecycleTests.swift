@testable import FLAME
import FLAMETestJobs
import Foundation
import Logging
import Synchronization
import FLAMETestSupport
import Testing

/// Growing, shrinking, draining and child services, with real runner processes.
@Suite(.timeLimit(.minutes(1))) struct PoolLifecycleTests {
    @Test(arguments: TestTransport.allCases) func minRunnersBootWithThePoolAndIdleOnesAboveMinShutDown(over transport: TestTransport) async throws {
        let shrinks = Mutex(0)
        var configuration = PoolConfiguration(name: "idle", min: 1, max: 3, maxConcurrency: 1)
        configuration.idleShutdownAfter = .seconds(1)
        configuration.onShrink = { _ in shrinks.withLock { $0 += 1 } }
        try await withPool(configuration, over: transport) { pool in
            #expect(await pool.status().runners.map(\.state) == [.idle])
            // Three calls at once grow the pool to max. Each holds its runner until the test
            // opens the gate, so all three are in flight together however late a loaded
            // machine boots a runner or starts a call (timed calls were not: seen in CI).
            let gate = "/tmp/flame-idle-gate-\(getpid())-\(transport)"
            unlink(gate)
            defer { unlink(gate) }
            let calls = Task {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<3 { group.addTask { try await pool.call(WaitUntilFileExists(path: gate)) } }
                    try await group.waitForAll()
                }
            }
            let allBusy = await eventually(within: .seconds(30)) { await pool.status().runners.filter { $0.state == .busy }.count == 3 }
            let seen = await pool.status()
            #expect(allBusy, "runners: \(seen.runners.map { "\($0.id) \($0.state)" }), waiting \(seen.queueDepth), booting \(seen.pendingBoots)")
            close(open(gate, O_CREAT | O_WRONLY, 0o600))
            try await calls.value
            let pids = await pool.status().runners.compactMap(\.pid)
            // Idle for 1 s: back to min, and the processes are really gone.
            await eventually { await pool.status().runners.count == 1 }
            let alive = pids.filter(processIsAlive)
            let exited = await eventually { pids.filter(processIsAlive).count == 1 }
            #expect(exited, "alive: \(alive)")
            #expect(shrinks.withLock { $0 } == 2)
        }
    }

    @Test(arguments: TestTransport.allCases) func idleCheckJobMustAgreeBeforeARunnerIsShutDown(over transport: TestTransport) async throws {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("flame-idle-\(UUID())").path
        var configuration = PoolConfiguration(name: "check", max: 1)
        configuration.idleShutdownAfter = .milliseconds(200)
        configuration.idleShutdownCheck = IdleIfFileExists(path: flag)
        try await withPool(configuration, over: transport) { pool in
            _ = try await pool.call(Echo(1))
            try await Task.sleep(for: .milliseconds(800))
            #expect(await pool.status().runners.count == 1)  // the check said "busy"
            _ = FileManager.default.createFile(atPath: flag, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: flag) }
            await eventually { await pool.status().runners.isEmpty }
        }
    }

    @Test(arguments: TestTransport.allCases) func singleUseRunnersServeOneCallEach(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "single", max: 2, singleUse: true), over: transport) { pool in
            let first = try await pool.call(WhoAmI())
            let second = try await pool.call(WhoAmI())
            #expect(first != second)
            await eventually { !processIsAlive(first) && !processIsAlive(second) }
        }
    }

    @Test(arguments: TestTransport.allCases) func scalingARunningPoolBootsAndRetiresRealRunnersWithoutLosingCalls(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "scale", min: 0, max: 4, maxConcurrency: 2), over: transport) { pool in
            try await pool.scale(min: 3)
            await eventually { await pool.status().runners.filter { $0.state == .idle }.count == 3 }
            let pids = await pool.status().runners.compactMap(\.pid)
            #expect(pids.allSatisfy(processIsAlive))
            // Load, then lower max to 1 in the middle of it: every call still succeeds.
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<60 { group.addTask { try await pool.call(Sleep(milliseconds: 20 + i % 5)) } }
                try await Task.sleep(for: .milliseconds(50))
                try await pool.scale(min: 0, max: 1)
                return try await group.reduce(into: 0) { count, _ in count += 1 }
            }
            #expect(results == 60)
            await eventually { await pool.status().runners.count == 1 }
            let invalid = await caught { try await pool.scale(min: 2, max: 1) }
            #expect(FLAMEError.Code.invalidConfiguration ~= invalid!)
        }
    }

    @Test(arguments: TestTransport.allCases) func drainingARunnerUnderLoadLosesNoCallAndNewCallsGoElsewhere(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "drain", min: 2, max: 3, maxConcurrency: 4), over: transport) { pool in
            let victim = try #require(await pool.status().runners.first)
            let completed = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<80 { group.addTask { try await pool.call(Sleep(milliseconds: 10 + i % 7)) } }
                try await Task.sleep(for: .milliseconds(30))
                try await pool.drain(runner: victim.id)
                return try await group.reduce(into: 0) { count, _ in count += 1 }
            }
            #expect(completed == 80)
            await eventually { !processIsAlive(victim.pid!) }
            #expect(await pool.status().runners.allSatisfy { $0.id != victim.id })
            let unknown = await caught { try await pool.drain(runner: "drain-99") }
            #expect(FLAMEError.Code.unknownRunner ~= unknown!)
        }
    }

    @Test(arguments: TestTransport.allCases) func drainingThePoolReplacesEveryRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "rolling", min: 2, max: 2), over: transport) { pool in
            let before = Set(await pool.status().runners.compactMap(\.pid))
            await pool.drain()
            await eventually {
                let now = await pool.status().runners
                return now.count == 2 && now.allSatisfy { $0.state == .idle } && Set(now.compactMap(\.pid)).isDisjoint(with: before)
            }
            let value = try await pool.call(Echo(7))
            #expect(value == 7)
        }
    }

    @Test(arguments: TestTransport.allCases) func killingARunnerFailsOnlyItsCalls(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "kill", min: 2, max: 2, maxConcurrency: 1), over: transport) { pool in
            let calls = (0..<2).map { _ in Task { try await pool.call(Sleep(milliseconds: 1500)) } }
            await eventually { await pool.status().runners.allSatisfy { $0.inFlight == 1 } }
            let victim = try #require(await pool.status().runners.first)
            try await pool.kill(runner: victim.id)
            var outcomes: [Result<Int, any Error>] = []
            for call in calls { outcomes.append(await call.result) }
            let failures = outcomes.compactMap { if case .failure(let e) = $0 { e } else { nil } }
            #expect(failures.count == 1)
            #expect(FLAMEError.Code.runnerKilled ~= failures[0])
        }
    }

    @Test(arguments: TestTransport.allCases) func childServiceRunsUntilStoppedAndKeepsItsRunnerBusy(over transport: TestTransport) async throws {
        var configuration = PoolConfiguration(name: "child", max: 1)
        configuration.idleShutdownAfter = .milliseconds(200)
        try await withPool(configuration, over: transport) { pool in
            let child = try await pool.placeChild(Ticker())
            try await Task.sleep(for: .milliseconds(500))
            // Idle shutdown did not take the runner: the child lives and ticks.
            let ticks = try await child.call(Ticks())
            #expect(ticks > 5)
            #expect(await pool.status().runners.first?.children == 1)
            let exit = await child.stop()
            guard case .finished = exit else {
                Issue.record("expected the child to finish, got \(exit)")
                return
            }
            await eventually { await pool.status().runners.isEmpty }
            let afterwards = await caught { try await child.call(Ticks()) }
            #expect(FLAMEError.Code.childExited ~= afterwards!)
        }
    }

    @Test(arguments: TestTransport.allCases) func childStopsWhenItsRunnerGoesAway(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "orphan", max: 1), over: transport) { pool in
            let child = try await pool.placeChild(Ticker())
            let pid = try await child.call(WhoAmI())
            kill(pid, SIGKILL)
            guard case .failed(let error) = await child.waitUntilEnded() else {
                Issue.record("expected a failed exit")
                return
            }
            #expect((error as? FLAMEError)?.message.contains("SIGKILL") == true)
        }
    }

    @Test func castFailuresAreLoggedNotLost() async throws {
        let records = LogCapture()
        let pool = try await Pool(
            PoolConfiguration(name: "cast", max: 1), backend: try await TestRunner.backend(),
            logger: Logger(label: "test") { _ in records })
        pool.cast(Fail(codable: false))
        let logged = await eventually { records.messages.contains { $0.contains("cast of Fail failed") && $0.contains("plain failure") } }
        #expect(logged, "\(records.messages)")
        await pool.shutdown()
    }

    @Test func invalidConfigurationsAreRejectedWithTheField() async throws {
        let cases: [(PoolConfiguration, String)] = [
            (PoolConfiguration(name: "a", min: 3, max: 2), "min (3) must not exceed max (2)"),
            (PoolConfiguration(name: "a", max: 0), "max must be at least 1"),
            (PoolConfiguration(name: "a", max: 5_000), "max 5000 is above the pool's runner limit (4096"),
            (PoolConfiguration(name: "a", timeout: .seconds(-1)), "timeout must not be negative"),
            (PoolConfiguration(name: "a", maxConcurrency: 0), "maxConcurrency must be at least 1"),
            (PoolConfiguration(name: "", max: 1), "name must be non-empty"),
        ]
        for (configuration, message) in cases {
            let error = await caught { try await Pool(configuration, backend: InProcessBackend()) }
            #expect((error as? FLAMEError)?.message.contains(message) == true, "\(String(describing: error))")
        }
    }

    @Test func defaultsAreFLAMEs() {
        let configuration = PoolConfiguration(name: "d")
        #expect(configuration.maxConcurrency == 100)
        #expect(configuration.singleUse == false)
        #expect(configuration.timeout == .seconds(30))
        #expect(configuration.bootTimeout == .seconds(30))
        #expect(configuration.shutdownTimeout == .seconds(30))
        #expect(configuration.idleShutdownAfter == .seconds(30))
        #expect(configuration.minIdleShutdownAfter == nil)
    }
}

/// A log handler that keeps messages, for asserting what was logged.
final class LogCapture: LogHandler, Sendable {
    private let store = Mutex<[String]>([])
    var messages: [String] { store.withLock { $0 } }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {
        store.withLock { $0.append("\(event.message)") }
    }
}

@Suite(.timeLimit(.minutes(1))) struct PoolOwnershipTests {
    @Test func aPoolDroppedWithoutShutdownTakesItsRunnersWithIt() async throws {
        var pool: Pool? = try await Pool(PoolConfiguration(name: "dropped", min: 1, max: 1), backend: try await TestRunner.backend())
        let pid = try #require(await pool?.status().runners.first?.pid)
        #expect(processIsAlive(pid))
        pool = nil
        await eventually { !processIsAlive(pid) }
    }
}

@Suite(.timeLimit(.minutes(1))) struct CastTests {
    @Test func castsIssuedBeforeShutdownStillRun() async throws {
        let paths = (0..<5).map { "/tmp/flame-cast-\(getpid())-\($0)" }
        let pool = try await Pool(PoolConfiguration(name: "casts", max: 1), backend: try await TestRunner.backend())
        for path in paths { pool.cast(Touch(path: path)) }
        await pool.shutdown()
        let created = paths.filter { access($0, F_OK) == 0 }
        for path in paths { unlink(path) }
        #expect(created.count == paths.count)
    }
}
