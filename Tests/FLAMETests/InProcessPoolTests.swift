@testable import FLAME
import FLAMETestJobs
import FLAMEWire
import Synchronization
import FLAMETestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The pool actor over the in-process backend: fast checks of the actor's plumbing
/// (continuations, timers, grow/shrink callbacks) without processes.
@Suite(.timeLimit(.minutes(1))) struct InProcessPoolTests {
    @Test func callsRunThroughTheSameDispatchWithoutProcesses() async throws {
        let pool = try await Pool(PoolConfiguration(name: "mem", max: 2, maxConcurrency: 4), backend: InProcessBackend())
        let value = try await pool.call(Outer.Nested(text: "abc"))
        #expect(value == "ABC")
        let error = await caught { try await pool.call(Fail(codable: true)) }
        #expect((error as? RemoteJobError)?.underlying as? QuotaExceeded == QuotaExceeded(limit: 42))
        await pool.shutdown()
        let refused = await caught { try await pool.call(Echo(1)) }
        #expect(FLAMEError.Code.poolShutDown ~= refused!)
    }

    @Test func growCallbacksReportEachBootAndItsResult() async throws {
        let events = Mutex<[String]>([])
        let attempts = Mutex(0)
        // The timeout only bounds the test (the retry comes after 1 s): under the full suite's
        // load a 5 s one expired once in a dozen runs, for reasons not yet found (the call sat
        // placed and unanswered; alone, 20 of 20 runs passed).
        var configuration = PoolConfiguration(name: "grow", max: 1, timeout: .seconds(20))
        configuration.onGrowStart = { growth in events.withLock { $0.append("start \(growth.runnerID)") } }
        configuration.onGrowEnd = { growth, result in
            events.withLock { $0.append("end \(growth.runnerID) \((try? result.get()) != nil ? "ok" : "failed")") }
        }
        // The first boot fails; the retry after FLAME's 1 s debounce succeeds.
        let backend = InProcessBackend(bootFailure: { _ in
            attempts.withLock { count in
                count += 1
                return count == 1 ? FLAMEError(.bootFailed, "first boot fails") : nil
            }
        })
        let pool = try await Pool(configuration, backend: backend)
        let started = ContinuousClock.now
        let value = try await pool.call(Echo(3))
        #expect(value == 3)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(events.withLock { $0 } == ["start grow-1", "end grow-1 failed", "start grow-2", "end grow-2 ok"])
        await pool.shutdown()
    }

    @Test func slowBootPastBootTimeoutIsAbortedAndTheWaiterTimesOut() async throws {
        let events = PoolEvents.shared.subscribe()
        var configuration = PoolConfiguration(name: "slow-boot", max: 1, timeout: .milliseconds(600))
        configuration.bootTimeout = .milliseconds(200)
        let pool = try await Pool(configuration, backend: InProcessBackend(bootDelay: .seconds(30)))
        let error = await caught { try await pool.call(Echo(1)) }
        #expect(FLAMEError.Code.timeout ~= error!)
        #expect((error as? FLAMEError)?.message.contains("bootTimeout") == true)
        // Operators hear why the boot failed (the timeout), not that its task was cancelled.
        let failure = Task { () -> String? in
            for await event in events where event.pool == "slow-boot" && event.kind == .bootFailed { return event.message }
            return nil
        }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            failure.cancel()
        }
        let message = await failure.value
        watchdog.cancel()
        #expect(message?.contains("did not boot within bootTimeout") == true, "\(message ?? "no bootFailed event within 10 s")")
        await pool.shutdown()
    }

    /// `flamectl kill POOL-N` on a booting row: the runner stayed `exiting` with no pid
    /// forever, its caller got no replacement, and `shutdown()` never returned.
    @Test func killingABootingRunnerReplacesItAndShutdownStillCompletes() async throws {
        let gate = BootGate()
        let pool = try await Pool(PoolConfiguration(name: "kill-boot", max: 1, timeout: .seconds(20)), backend: gate)
        let call = Task { try await pool.call(Echo(5)) }
        await eventually { gate.waiting == 1 }
        let booting = try #require(await pool.status().runners.first)
        #expect(booting.state == .booting)
        try await pool.kill(runner: booting.id, reason: "by operator")
        // A replacement boot starts at once (a second boot at the gate); the killed one is gone.
        #expect(await eventually { gate.waiting == 2 })
        #expect(await pool.status().runners.map(\.id).contains(booting.id) == false)
        gate.open()
        #expect(try await call.value == 5)
        let shutdown = Task { await pool.shutdown() }
        let finished = await eventually(within: .seconds(10)) { await pool.status().runners.isEmpty }
        let left = await pool.status().runners.map(\.id)
        #expect(finished, "shutdown left \(left)")
        await shutdown.value
    }

    /// A runner whose process exits right after its hello, before the boot hands its link to
    /// the pool: the exit was dropped (the boot was still in flight), the runner stayed `idle`
    /// with a dead link, and the caller placed on it waited for its timeout.
    @Test func aRunnerThatExitsBeforeItsBootEndsIsAFailedBootAndCallersGetAnother() async throws {
        // The timeout only bounds the test (see growCallbacksReportEachBootAndItsResult: under
        // the full suite an in-process call sometimes sits unanswered for seconds).
        let pool = try await Pool(PoolConfiguration(name: "dies-early", max: 1, timeout: .seconds(20)), backend: DiesBeforeBootEnds())
        #expect(try await pool.call(Echo(4)) == 4)
        let runners = await pool.status().runners.map(\.id)
        #expect(runners == ["dies-early-2"], "the runner that exited is still listed: \(runners)")
        await pool.shutdown()
    }

    @Test func waitingCallerWhoseTaskIsCancelledGetsCancellationAndIsNeverServed() async throws {
        let gate = BootGate()
        let pool = try await Pool(PoolConfiguration(name: "wait", max: 1), backend: gate)
        let marker = "/tmp/flame-cancelled-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        defer { unlink(marker) }
        let call = Task { try await pool.call(Touch(path: marker)) }
        // The caller waits for the one boot, which does not finish until the gate opens.
        await eventually { await pool.status().queueDepth == 1 && gate.waiting == 1 }
        call.cancel()
        #expect(await caught { try await call.value } is CancellationError)
        #expect(await pool.status().queueDepth == 0)
        // The boot completes after the caller gave up: the runner must not run its job.
        gate.open()
        await eventually { await pool.status().runners.first?.state == .idle }
        let runner = try #require(await pool.status().runners.first)
        #expect(runner.completed == 0 && runner.failed == 0, "the cancelled caller's job was placed")
        #expect(access(marker, F_OK) != 0, "the cancelled caller's job ran")
        await pool.shutdown()
    }
}

/// In-process runners whose boots wait until the test opens the gate.
final class BootGate: Backend {
    private let base = InProcessBackend()
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Boots waiting at the gate.
    var waiting: Int { state.withLock { $0.waiters.count } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
        return try await base.boot(spec, events: events)
    }
}

/// The first runner's process exits after its hello but before its boot returns (the
/// backend reports the exit, then hands over a link to nothing); later boots are in-process.
final class DiesBeforeBootEnds: Backend {
    private let base = InProcessBackend()
    private let boots = Mutex(0)

    struct DeadLink: RunnerLink {
        var pid: Int32? { nil }
        var host: String { "local" }
        func send(_ message: ParentMessage) {}
        func stop() {}
        func kill() {}
    }

    func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        let first = boots.withLock { count in
            count += 1
            return count == 1
        }
        guard first else { return try await base.boot(spec, events: events) }
        events.exited(FLAMEError(.runnerExited, "runner \(spec.runnerID) exited with status 1"))
        try await Task.sleep(for: .milliseconds(200))
        return DeadLink()
    }
}
