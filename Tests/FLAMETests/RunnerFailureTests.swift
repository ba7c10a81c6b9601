@testable import FLAME
import FLAMETestJobs
import Foundation
import Synchronization
import FLAMETestSupport
import Testing

/// What happens when runners misbehave: timeouts, crashes, kills, rogue frames, impostors.
@Suite(.timeLimit(.minutes(1))) struct RunnerFailureTests {
    @Test(arguments: TestTransport.allCases) func callPastItsTimeoutFailsAndTheJobIsCancelledOnTheRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "timeout", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let started = ContinuousClock.now
            let error = await caught { try await pool.call(Sleep(milliseconds: 20_000), timeout: .milliseconds(300)) }
            #expect(FLAMEError.Code.timeout ~= error!)
            // At its timeout, not when the 20 s job ends (slack for a loaded machine: the whole
            // suite on two cores has stretched 300 ms to 5.3 s).
            #expect(ContinuousClock.now - started < .seconds(15))
            // The runner cancelled the sleep: its slot frees up, it is not killed.
            await eventually { await pool.status().runners.first?.inFlight == 0 }
            let samePid = try await pool.call(WhoAmI())
            #expect(samePid == pid)
            #expect(await pool.status().callsTimedOut == 1)
        }
    }

    @Test(arguments: TestTransport.allCases) func runnerWhoseJobIgnoresCancellationIsKilledAndItsOtherCallsFail(over transport: TestTransport) async throws {
        var configuration = PoolConfiguration(name: "stubborn", max: 1, maxConcurrency: 2)
        configuration.shutdownTimeout = .milliseconds(500)
        try await withPool(configuration, over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let bystander = Task { try await pool.call(Sleep(milliseconds: 30_000), timeout: .seconds(60)) }
            let error = await caught { try await pool.call(Stubborn(milliseconds: 30_000), timeout: .milliseconds(300)) }
            #expect(FLAMEError.Code.timeout ~= error!)
            let bystanderError = await caught { try await bystander.value }
            #expect(FLAMEError.Code.runnerKilled ~= bystanderError!)
            #expect((bystanderError as? FLAMEError)?.message.contains("ignored cancellation") == true)
            await eventually { !processIsAlive(pid) }
            // The pool serves on with a new runner.
            let newPid = try await pool.call(WhoAmI())
            #expect(newPid != pid)
        }
    }

    @Test(arguments: TestTransport.allCases) func runnerThatExitsFailsItsCallsAtOnceNamingTheStatus(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "exit", max: 1, maxConcurrency: 4), over: transport) { pool in
            let bystander = Task { try await pool.call(Sleep(milliseconds: 30_000)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }
            let started = ContinuousClock.now
            let error = await caught { try await pool.call(ExitProcess(status: 3)) }
            #expect(FLAMEError.Code.runnerExited ~= error!)
            #expect((error as? FLAMEError)?.message.contains("exited with status 3") == true)
            let bystanderError = await caught { try await bystander.value }
            #expect((bystanderError as? FLAMEError)?.message.contains("exited with status 3") == true)
            // At once, not at the calls' 30 s timeout (slack for a loaded machine, as above).
            #expect(ContinuousClock.now - started < .seconds(15))
            // Nobody waits: no replacement is booted until demand returns.
            await eventually { await pool.status().runners.isEmpty }
            let value = try await pool.call(Echo(5))
            #expect(value == 5)
        }
    }

    @Test(arguments: TestTransport.allCases) func runnerKilledBySignalNamesTheSignal(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "signal", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let call = Task { try await pool.call(Sleep(milliseconds: 30_000)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }
            kill(pid, SIGKILL)
            let error = await caught { try await call.value }
            #expect((error as? FLAMEError)?.message.contains("killed by signal 9 (SIGKILL)") == true)
        }
    }

    @Test(arguments: TestTransport.allCases) func cancellingTheCallersTaskCancelsTheJobOnTheRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "cancel", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let call = Task { try await pool.call(Sleep(milliseconds: 30_000)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }
            call.cancel()
            #expect(await caught { try await call.value } is CancellationError)
            await eventually(within: .seconds(3)) { await pool.status().runners.first?.inFlight == 0 }
            let samePid = try await pool.call(WhoAmI())
            #expect(samePid == pid)
        }
    }

    @Test(arguments: [false, true])
    func runnerSendingAMalformedOrOversizedFrameIsCutOffAndThePoolServesOn(oversized: Bool) async throws {
        try await withPool(PoolConfiguration(name: "rogue", max: 1)) { pool in
            let pid = try await pool.call(WhoAmI())
            let error = await caught { try await pool.call(CorruptChannel(oversized: oversized)) }
            #expect(FLAMEError.Code.runnerExited ~= error!)
            await eventually { !processIsAlive(pid) }
            let value = try await pool.call(Echo(9))
            #expect(value == 9)
        }
    }

    @Test(arguments: TestTransport.allCases) func runnerOfAnotherBuildIsRefusedWithAClearError(over transport: TestTransport) async throws {
        let pool = try await Pool(
            PoolConfiguration(name: "mismatch", max: 1, timeout: .seconds(20)),
            backend: try await TestRunner.backend(environment: ["FLAME_BUILD_ID": "some-other-build"], over: transport))
        let started = ContinuousClock.now
        let error = await caught { try await pool.call(Echo(1)) }
        #expect(FLAMEError.Code.buildMismatch ~= error!)
        #expect((error as? FLAMEError)?.message.contains("some-other-build") == true)
        #expect(ContinuousClock.now - started < .seconds(10))  // not at the call timeout
        await pool.shutdown()
    }

    @Test(arguments: TestTransport.allCases) func runnerProvingTheWrongTokenIsRefused(over transport: TestTransport) async throws {
        let failures = Mutex<[FLAMEError]>([])
        // The caller waits long enough (5 s) for the refused boot to happen first even on a
        // loaded machine (1.5 s was not always enough under the full suite); its timeout then
        // names the boot's failure.
        var configuration = PoolConfiguration(name: "forged", max: 1, timeout: .seconds(5))
        configuration.onGrowEnd = { _, result in
            if case .failure(let error) = result { failures.withLock { $0.append(error) } }
        }
        let pool = try await Pool(configuration, backend: try await TestRunner.backend(environment: ["FLAME_TEST_FORGE_TOKEN": "evil"], over: transport))
        let call = Task { try await pool.call(Echo(1)) }
        await eventually { failures.withLock { $0.first?.message.contains("failed authentication") } == true }
        let error = await caught { try await call.value }
        #expect(FLAMEError.Code.timeout ~= error!)
        #expect((error as? FLAMEError)?.message.contains("failed authentication") == true, "\(String(describing: error))")
        await pool.shutdown()
    }

    @Test func minRunnersThatCannotBootFailThePoolStart() async throws {
        let backend = LocalProcessBackend(executable: "/nonexistent/flame-runner", arguments: [])
        let error = await caught { try await Pool(PoolConfiguration(name: "broken", min: 2, max: 2), backend: backend) }
        #expect(FLAMEError.Code.bootFailed ~= error!)
        #expect((error as? FLAMEError)?.message.contains("/nonexistent/flame-runner") == true)
    }

    @Test func killingTheParentLeavesNoRunnerAlive() async throws {
        let parent = try StreamingCommand(TestRunner.executable, ["parent", "3"])
        await parent.waitForLine { $0 == "ready" }
        let pids = parent.lines.compactMap { line -> Int32? in
            line.hasPrefix("runner-pid ") ? Int32(line.dropFirst("runner-pid ".count)) : nil
        }
        #expect(pids.count == 3)
        #expect(pids.allSatisfy(processIsAlive))
        kill(parent.processIdentifier, SIGKILL)
        await parent.stop()  // reaps it
        try await Task.sleep(for: .seconds(1))  // the guarantee under test: gone within 1 s
        #expect(pids.filter(processIsAlive).isEmpty, "runners alive 1 s after the parent was killed: \(pids.filter(processIsAlive))")
    }
}
