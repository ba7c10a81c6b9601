public import FLAME
import FLAMETestJobs
#if canImport(Glibc)
import Glibc
#endif

/// The chaos suite's scenarios. Each builds its own pool on `backend`, runs a steady load,
/// does its damage, and reports every call. `makeBackend` lets the same scenarios run with
/// `flame-chaos` as its own runner and under `swift test` with the test runner executable.
public struct ChaosSuite: Sendable {
    public var profile: ChaosProfile
    public var makeBackend: @Sendable () -> any Backend
    /// Cancels a runner's cluster job (`scancel`), for backends whose runners have one:
    /// kill-runners then alternates it with `kill -9` of the runner process.
    public var cancelJob: (@Sendable (String) async -> Void)?

    public init(profile: ChaosProfile, makeBackend: @escaping @Sendable () -> any Backend, cancelJob: (@Sendable (String) async -> Void)? = nil) {
        self.profile = profile
        self.makeBackend = makeBackend
        self.cancelJob = cancelJob
    }

    public static let scenarioNames = ["kill-runners", "stop-runner", "hostile-jobs", "drain-and-shrink", "boot-failures", "admin-abuse", "soak"]

    public func run(_ name: String) async throws -> ScenarioReport {
        switch name {
        case "kill-runners": try await killRunners()
        case "stop-runner": try await stopRunner()
        case "hostile-jobs": try await hostileJobs()
        case "drain-and-shrink": try await drainAndShrink()
        case "boot-failures": try await bootFailures()
        case "admin-abuse": try await adminAbuse()
        case "soak": try await soak()
        default: throw FLAMEError(.invalidConfiguration, "no scenario named \(name)")
        }
    }

    func pool(_ name: String, min: Int, max: Int, configure: (inout PoolConfiguration) -> Void = { _ in }, backend: (any Backend)? = nil) async throws -> Pool {
        var configuration = PoolConfiguration(name: name, min: min, max: max, maxConcurrency: 8)
        configuration.shutdownTimeout = .seconds(1)
        configuration.bootTimeout = .seconds(5)
        configure(&configuration)
        return try await Pool(configuration, backend: backend ?? makeBackend())
    }

    /// `kill -9` a random runner every 100–600 ms while the load runs (every other fault a
    /// `scancel` of its job, for cluster runners); after each, how long until the pool has
    /// `min` live runners again.
    func killRunners() async throws -> ScenarioReport {
        // min = max 3, and a load that one runner could carry (a third of the callers, 8 calls
        // per runner): only `min` makes the pool replace a killed runner, and it must.
        let pool = try await pool("chaos-kill", min: 3, max: 3)
        return try await scenario("kill-runners", on: pool) { report in
            // A killed runner's calls fail with runnerExited naming the signal (a cancelled job's
            // runner got SIGTERM from Slurm, so that is accepted where jobs are cancelled);
            // nothing else may fail.
            let cancelsJobs = cancelJob != nil
            let load = Load(pool: pool, callers: max(1, profile.callers / 3)) { error in
                (error as? FLAMEError).map {
                    $0.code == .runnerExited
                        && ($0.message.contains("killed by signal 9 (SIGKILL)") || (cancelsJobs && $0.message.contains("killed by signal 15 (SIGTERM)")))
                } ?? false
            }
            let end = ContinuousClock.now + profile.faultPhase
            while ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(Int.random(in: 100...600)))
                let live = await pool.status().runners.filter { $0.state != .booting && $0.pid != nil }
                guard let victim = live.randomElement(), let pid = victim.pid else { continue }
                let killedAt = ContinuousClock.now
                if let cancelJob, let job = victim.clusterJob, report.faults % 2 == 1 {
                    await cancelJob(job)
                    report.cancelledJobs += 1
                } else {
                    kill(pid, SIGKILL)
                }
                report.faults += 1
                if let healed = await recovery(of: pool, since: killedAt, without: pid, atLeast: 3) {
                    report.maxRecovery = max(report.maxRecovery ?? .zero, healed)
                } else {
                    report.problems.append("the pool did not get back to its min of 3 runners within 10 s of a kill")
                }
            }
            report.absorb(await load.stop())
            report.expect(
                report.unexpectedFailures == 0,
                "every failed call failed with runnerExited naming SIGKILL or, for a cancelled job, SIGTERM (\(report.unexpectedFailures) did not: \(report.unexpectedSamples))")
            if cancelJob != nil { report.expect(report.cancelledJobs > 0, "\(report.cancelledJobs) of the faults were scancels of the runner's job") }
            // Recovered to demand: a fresh round of calls all succeed.
            let after = try await Self.allSucceed(pool, calls: 40)
            report.expect(after, "after the faults, 40 calls all succeed")
            report.expect(report.succeeded > 0, "calls kept succeeding between faults")
        }
    }

    /// SIGSTOP a runner (hung, not dead): its calls time out, it is killed and replaced.
    func stopRunner() async throws -> ScenarioReport {
        let pool = try await pool("chaos-stop", min: 2, max: 2)
        return try await scenario("stop-runner", on: pool) { report in
            let load = Load(pool: pool, callers: profile.callers, callTimeout: .seconds(1))
            let rounds = max(1, Int(profile.faultPhase / .seconds(8)))
            for _ in 0..<rounds {
                try await Task.sleep(for: .seconds(1))
                guard let pid = await pool.status().runners.compactMap(\.pid).randomElement() else { continue }
                let stoppedAt = ContinuousClock.now
                kill(pid, SIGSTOP)
                report.faults += 1
                if let healed = await recovery(of: pool, since: stoppedAt, without: pid, atLeast: 2, within: .seconds(15)) {
                    report.maxRecovery = max(report.maxRecovery ?? .zero, healed)
                } else {
                    report.problems.append("the stopped runner was not replaced within 15 s")
                }
                report.expect(!ProcessProbe.isAlive(pid), "the stopped runner \(pid) was killed")
                kill(pid, SIGCONT)  // in case it was not: never leave a stopped process behind
            }
            report.absorb(await load.stop())
            report.expect((report.failures["timeout"] ?? 0) > 0, "calls on the stopped runner failed with timeout")
            report.expect(try await Self.allSucceed(pool, calls: 20), "after the faults, 20 calls all succeed")
        }
    }

    /// Jobs that misbehave, beside a steady load: each fails its own call with a clear
    /// error (or, flooding stdout, succeeds with the output bounded) and nothing else. The
    /// job that ignores cancellation gets a pool of one runner, so that its runner, killed
    /// for it, is known and so is the bystander call that fails with it.
    func hostileJobs() async throws -> ScenarioReport {
        let pool = try await pool("chaos-hostile", min: 2, max: 3)
        return try await scenario("hostile-jobs", on: pool) { report in
            let load = Load(pool: pool, callers: profile.callers / 2)
            func outcome(_ body: () async throws -> Int) async -> String {
                do { return "ok \(try await body())" } catch { return "\(failureName(error)): \(error)" }
            }
            try await stubbornJob(into: &report)
            let exits = await outcome { try await pool.call(ExitProcess(status: 3)) }
            report.expect(exits.hasPrefix("runnerExited") && exits.contains("exited with status 3"), "a job exiting the process fails its call naming the status (\(exits.prefix(100)))")
            let crash = await outcome { try await pool.call(Crash()) }
            report.expect(crash.hasPrefix("runnerExited") && crash.contains("killed by signal"), "a job trapping fails its call naming the signal (\(crash.prefix(100)))")
            let rssBefore = ProcessProbe.sample().residentBytes
            let flood = await outcome { try await pool.call(Flood(lines: 200_000), timeout: .seconds(30)) }
            let grown = Int64(ProcessProbe.sample().residentBytes) - Int64(rssBefore)
            report.expect(flood == "ok 200000", "a job writing 20 MB to stdout completes (\(flood.prefix(80)))")
            report.expect(grown < 64 << 20, "the parent grew \(grown >> 20) MB holding that output (bound: the per-runner ring)")
            report.faults += 3
            report.absorb(await load.stop())
            // The load shares its runners with the jobs that exit and crash, so its calls may
            // fail with their runner's exit; nothing else.
            report.expect(report.failures.keys.allSatisfy { $0 == "runnerExited" }, "the load's calls failed only with runnerExited (\(report.failures))")
            report.expect(try await Self.allSucceed(pool, calls: 20), "afterwards, 20 calls all succeed")
        }
    }

    /// A job that blocks its thread and ignores cancellation, beside a bystander call on the
    /// same (only) runner: the job's caller gets `timeout`; `shutdownTimeout` later the runner
    /// is killed, the bystander fails with `runnerKilled`, and a new runner serves on.
    private func stubbornJob(into report: inout ScenarioReport) async throws {
        let single = try await pool("chaos-stubborn", min: 1, max: 1)
        let killed = PoolEvents.shared.subscribe()
        let runner = try await Self.firstRunner(of: single)
        let bystander = Task { try await single.call(Sleep(milliseconds: 20_000), timeout: .seconds(30)) }
        let stubborn = await Self.outcome { try await single.call(Stubborn(milliseconds: 20_000), timeout: .milliseconds(500)) }
        report.expect(stubborn.error.map(failureName) == "timeout", "a job ignoring cancellation times out (\(stubborn))")
        let bystanderOutcome = await Self.outcome { try await bystander.value }
        let bystanderError = bystanderOutcome.error as? FLAMEError
        report.expect(
            bystanderError?.code == .runnerKilled && bystanderError?.message.contains("ignored cancellation") == true,
            "the other call on its runner fails with runnerKilled, saying why (\(bystanderOutcome))")
        let kill = await Self.firstEvent(of: killed, within: .seconds(5)) { $0.pool == "chaos-stubborn" && $0.kind == .killed }
        report.expect(kill?.runner == runner.id, "the pool killed \(runner.id), the stubborn job's runner (\(kill.map(\.message) ?? "no kill event"))")
        // The event comes as the kill is sent; the process goes a moment later.
        let pid = runner.pid ?? -1  // firstRunner returns runners with a pid
        let gone = await poll(within: .seconds(5)) { !ProcessProbe.children().contains(pid) }
        report.expect(pid > 0 && gone, "its process \(pid) is gone (reaped)")
        report.expect((try? await single.call(Echo(9))) == 9, "a new runner serves the next call")
        report.faults += 1
        await single.shutdown()
    }

    /// Drain a runner, drain the pool, lower `max` and raise it again, all under load:
    /// not one call may fail.
    func drainAndShrink() async throws -> ScenarioReport {
        let pool = try await pool("chaos-drain", min: 2, max: 4)
        return try await scenario("drain-and-shrink", on: pool) { report in
            let load = Load(pool: pool, callers: profile.callers, jobMilliseconds: 20)
            let rounds = max(1, Int(profile.faultPhase / .seconds(8)))
            for _ in 0..<rounds {
                try await Task.sleep(for: .seconds(1))
                if let runner = await pool.status().runners.first(where: { $0.state != .booting }) {
                    try await pool.drain(runner: runner.id)
                    report.faults += 1
                }
                try await Task.sleep(for: .seconds(1))
                await pool.drain()
                try await Task.sleep(for: .seconds(1))
                try await pool.scale(min: 1, max: 2)
                try await Task.sleep(for: .seconds(1))
                try await pool.scale(min: 2, max: 4)
                report.faults += 3
            }
            try await Task.sleep(for: .seconds(1))
            report.absorb(await load.stop())
            report.expect(report.failures.isEmpty, "no call failed while draining and shrinking")
        }
    }

    /// A backend that fails every other boot and hangs every third past `bootTimeout`:
    /// callers are served by the runners that do boot, and none waits past its timeout.
    func bootFailures() async throws -> ScenarioReport {
        let flaky = FlakyBackend(wrapping: makeBackend())
        let pool = try await pool("chaos-boot", min: 0, max: 3, configure: {
            $0.bootTimeout = .milliseconds(800)
            $0.idleShutdownAfter = .milliseconds(300)
            $0.maxConcurrency = 2
        }, backend: flaky)
        return try await scenario("boot-failures", on: pool) { report in
            // Bursts of load with pauses long enough for idle runners to retire: every burst
            // needs new boots (6 callers, 2 calls per runner).
            let end = ContinuousClock.now + profile.faultPhase
            while ContinuousClock.now < end {
                let load = Load(pool: pool, callers: 6, callTimeout: .seconds(3))
                try await Task.sleep(for: .milliseconds(700))
                report.absorb(await load.stop())
                try await Task.sleep(for: .milliseconds(700))
            }
            let boots = flaky.counts
            report.faults = boots.failed + boots.hung
            report.expect(boots.failed > 0 && boots.hung > 0, "boots failed (\(boots.failed)) and hung (\(boots.hung)) of \(boots.attempts)")
            report.expect(report.succeeded > 0, "calls were served by the runners that booted")
            // A waiting caller is never failed for another runner's boot: it waits for the
            // next runner. Only its own 3 s timeout can fail it, and the worst run of bad
            // boots (refused, 1 s retry debounce, hung for the 0.8 s bootTimeout, 1 s, refused,
            // 1 s, booted) takes ~3.8 s, past it. So timeouts may happen; nothing else may.
            report.expect(report.failures.keys.allSatisfy { $0 == "timeout" }, "calls failed only with timeout (\(report.failures))")
            await pool.shutdown()
            // A boot aborted by the shutdown itself may be killed and not yet reaped: a moment.
            let gone = await poll(within: .seconds(3)) { ProcessProbe.children(command: "sleep").isEmpty }
            report.expect(gone, "the hung boots' processes are gone (left: \(ProcessProbe.children(command: "sleep").sorted()))")
        }
    }

    // MARK: - Helpers

    /// The frame of every fault scenario: the probe sampled with `pool` up, the scenario's
    /// own work on its report, then the pool shut down and the probe sampled again.
    func scenario(_ name: String, on pool: Pool, _ body: (inout ScenarioReport) async throws -> Void) async throws -> ScenarioReport {
        var report = ScenarioReport(name: name)
        report.before = ProcessProbe.sample()
        try await body(&report)
        await pool.shutdown()
        report.after = ProcessProbe.sample()
        return report
    }

    /// How long after `since` the pool had `atLeast` live runners, none of them `pid`.
    func recovery(of pool: Pool, since: ContinuousClock.Instant, without pid: Int32, atLeast: Int, within: Duration = .seconds(10)) async -> Duration? {
        let recovered = await poll(every: .milliseconds(5), within: within - (ContinuousClock.now - since)) {
            await pool.status().runners.filter { $0.state != .booting && $0.pid != nil && $0.pid != pid }.count >= atLeast
        }
        return recovered ? ContinuousClock.now - since : nil
    }

    /// What `body` returned or threw.
    static func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    /// The first event of `events` that `matches`, or nil when none came within `timeout`.
    static func firstEvent(
        of events: AsyncStream<PoolEvent>, within timeout: Duration, where matches: @escaping @Sendable (PoolEvent) -> Bool
    ) async -> PoolEvent? {
        await withTaskGroup(of: PoolEvent?.self) { group in
            group.addTask {
                for await event in events where matches(event) { return event }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// The pool's first runner once it is up.
    static func firstRunner(of pool: Pool) async throws -> RunnerStatus {
        var runner: RunnerStatus?
        _ = await poll(within: .seconds(10)) {
            runner = await pool.status().runners.first { $0.pid != nil && $0.state != .booting }
            return runner != nil
        }
        guard let runner else { throw FLAMEError(.bootFailed, "pool \(pool.name) has no runner after 10 s") }
        return runner
    }

    static func allSucceed(_ pool: Pool, calls: Int) async throws -> Bool {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<calls { group.addTask { (try? await pool.call(SlowEcho(i, milliseconds: 1), timeout: .seconds(10))) == i } }
            var all = true
            for try await ok in group { all = all && ok }
            return all
        }
    }

}
