import FLAME
import FLAMESlurm
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Slurm backend against the real daemons of scripts/slurm-up.sh (two nodes, four CPUs
/// each): runners are srun jobs of the test runner executable that dial back over TCP.
/// Serialized: the tests share the cluster's eight CPUs.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: SlurmCluster.isUp || everyTestMustRun, Comment(rawValue: SlurmCluster.unavailableReason)))
struct SlurmBackendTests {
    @Test func runnersBootOnDemandAcrossBothNodesAndServeCallsCastsAndChildren() async throws {
        try SlurmCluster.require()
        // Each runner reserves a whole node (4 CPUs), so two runners must use both.
        let prefix = uniquePrefix()
        let pool = try await slurmPool(PoolConfiguration(name: "spread", max: 2, maxConcurrency: 1), SlurmOptions(cpusPerRunner: 4, jobNamePrefix: prefix))
        // The calls wait for a file that appears once both runners are busy: with timed sleeps
        // the first call could end before the second runner booted, on a loaded machine, and
        // the second call then ran on the first runner.
        let release = FileManager.default.temporaryDirectory.appendingPathComponent("flame-slurm-spread-\(UUID().uuidString)").path
        defer { unlink(release) }
        async let first = pool.call(WaitUntilFileExists(path: release))
        async let second = pool.call(WaitUntilFileExists(path: release))
        await eventually(within: .seconds(30)) { await pool.status().runners.filter { $0.state == .busy }.count == 2 }
        let runners = await pool.status().runners
        #expect(Set(runners.map(\.host)) == ["n1", "n2"], "\(runners)")
        // The snapshot's job ids are the cluster's, on the nodes squeue says.
        let jobs = try await SlurmCluster.jobs(namedWith: prefix)
        for runner in runners {
            let job = try #require(runner.clusterJob)
            #expect(jobs.contains { $0.hasPrefix("\(job)|RUNNING|\(prefix)\(runner.id)|\(runner.host)") }, "\(runner.id) job \(job): \(jobs)")
        }
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        _ = try await (first, second)

        #expect(try await pool.call(Echo(41)) == 41)
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("flame-slurm-cast-\(UUID().uuidString)").path
        defer { unlink(marker) }
        pool.cast(Touch(path: marker))
        #expect(await eventually(within: .seconds(10)) { access(marker, F_OK) == 0 }, "the cast ran on a Slurm runner")
        let child = try await pool.placeChild(Ticker())
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await child.call(Ticks()) > 5)
        _ = await child.stop()
        await pool.shutdown()
        #expect(await eventually(within: .seconds(10)) { (try? await SlurmCluster.jobs(namedWith: prefix))?.isEmpty == true }, "shutdown ended every job")
    }

    @Test func idleShutdownEndsTheRunnersJob() async throws {
        try SlurmCluster.require()
        let prefix = uniquePrefix()
        var configuration = PoolConfiguration(name: "idle", max: 1)
        configuration.idleShutdownAfter = .milliseconds(500)
        let pool = try await slurmPool(configuration, SlurmOptions(jobNamePrefix: prefix))
        #expect(try await pool.call(Echo(1)) == 1)
        #expect(try await SlurmCluster.jobs(namedWith: prefix).count == 1)
        #expect(await eventually(within: .seconds(15)) { (try? await SlurmCluster.jobs(namedWith: prefix))?.isEmpty == true }, "the idle runner's job ended")
        #expect(await pool.status().runners.isEmpty)
        await pool.shutdown()
    }

    @Test func aBootThatCannotBeScheduledFailsWithinBootTimeoutNamingSlurmsReason() async throws {
        try SlurmCluster.require()
        let prefix = uniquePrefix()
        var configuration = PoolConfiguration(name: "starved", max: 1, timeout: .seconds(30))
        configuration.bootTimeout = .seconds(4)
        let failures = BootFailures(into: &configuration)
        let pool = try await slurmPool(configuration, SlurmOptions(jobNamePrefix: prefix, pendingPollInterval: .milliseconds(500)))
        try await SlurmCluster.occupyEveryNode { blocker in
            let started = ContinuousClock.now
            let call = Task { try await pool.call(Echo(1)) }
            let failed = await eventually(within: .seconds(15)) { !failures.messages.isEmpty }
            let elapsed = ContinuousClock.now - started
            // bootTimeout 4 s, plus the pool's timer and a loaded machine's slack.
            #expect(failed && elapsed < .seconds(7), "the boot failed after \(elapsed)")
            let message = failures.messages.first ?? ""
            #expect(message.contains("did not boot within bootTimeout") && message.contains("is pending (Resources)"), "\(message)")
            // That very job was cancelled with its boot.
            let job = try #require(message.firstMatch(of: /Slurm job (\d+) is pending/).map { String($0.1) }, "\(message)")
            #expect(await eventually(within: .seconds(10)) {
                (try? await SlurmCluster.jobs(format: "%i"))?.contains(job) == false
            }, "job \(job) of the timed-out boot is still queued")
            // A retry once the cluster has room serves the call.
            await blocker.release()
            #expect(try await call.value == 1)
        }
        await pool.shutdown()
    }

    @Test func aPartitionThatDoesNotExistFailsTheBootWithSlurmsReason() async throws {
        try SlurmCluster.require()
        let message = try await firstBootFailure(pool: "nowhere", SlurmOptions(partition: "no-such-partition"))
        #expect(message.contains("was refused by Slurm: Unable to allocate resources: Invalid partition name specified"), "\(message)")
    }

    @Test func aRunnerThatFailsBeforeItsHelloFailsTheBootSayingHow() async throws {
        try SlurmCluster.require()
        let message = try await firstBootFailure(pool: "missing", SlurmOptions(executable: "/nonexistent/flame-runner"))
        #expect(message.contains("before it said hello") && message.contains("task: Exited with exit code 2"), "\(message)")
        #expect(message.contains("/nonexistent/flame-runner: No such file or directory"), "Slurm's reason: \(message)")
    }

    /// The first boot failure of a one-runner pool on `options` whose call must fail.
    private func firstBootFailure(pool name: String, _ options: SlurmOptions) async throws -> String {
        var configuration = PoolConfiguration(name: name, max: 1, timeout: .seconds(3))
        let failures = BootFailures(into: &configuration)
        let pool = try await slurmPool(configuration, options)
        let error = await caught { try await pool.call(Echo(1)) }
        #expect(error != nil, "the call failed")
        await pool.shutdown()
        return failures.messages.first ?? ""
    }

    @Test func runnersKilledOrCancelledAreReplacedAndTheirCallsFailNamingHow() async throws {
        try SlurmCluster.require()
        let prefix = uniquePrefix()
        let pool = try await slurmPool(PoolConfiguration(name: "victims", min: 1, max: 1, timeout: .seconds(20)), SlurmOptions(jobNamePrefix: prefix))
        for fault in ["kill -9", "scancel"] {
            await eventually(within: .seconds(15)) { await pool.status().runners.first?.state == .idle }
            let victim = try #require(await pool.status().runners.first)
            let pid = try #require(victim.pid)
            let job = try #require(victim.clusterJob)
            let call = Task { try await pool.call(Sleep(milliseconds: 10_000)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }
            if fault == "kill -9" { kill(pid, SIGKILL) } else { _ = try await runCommand("/usr/bin/scancel", [job]) }
            let error = await caught { try await call.value }
            let expected = fault == "kill -9" ? "killed by signal 9 (SIGKILL)" : "killed by signal 15 (SIGTERM)"
            #expect(FLAMEError.Code.runnerExited ~= (try #require(error)))
            #expect((error as? FLAMEError)?.message.contains(expected) == true, "\(fault): \(String(describing: error))")
            #expect((error as? FLAMEError)?.message.contains("job \(job)") == true, "\(fault): \(String(describing: error))")
            // min 1 brings a new runner in a new job.
            #expect(await eventually(within: .seconds(15)) { await pool.status().runners.first.map { $0.clusterJob != job && $0.state == .idle } == true })
        }
        await pool.shutdown()
    }
}

/// A job name prefix no other test uses, so squeue can be read for one test's jobs.
func uniquePrefix() -> String {
    "flame-t\(UInt32.random(in: 0...UInt32.max))-"
}

/// A pool of Slurm runners: the test runner executable, dialing a loopback listener.
func slurmPool(_ configuration: PoolConfiguration, _ options: SlurmOptions) async throws -> Pool {
    var options = options
    if options.executable == nil { options.executable = TestRunner.executable }
    if options.arguments == nil { options.arguments = [] }
    return try await Pool(configuration, backend: SlurmBackend(options: options, listener: try await sharedListener.value))
}

private let sharedListener = Task { try await RunnerListener.start() }

/// The messages of a pool's failed boots.
final class BootFailures: Sendable {
    private let recorded = Mutex<[String]>([])
    var messages: [String] { recorded.withLock { $0 } }

    init(into configuration: inout PoolConfiguration) {
        configuration.onGrowEnd = { [self] _, result in
            if case .failure(let error) = result { recorded.withLock { $0.append(error.message) } }
        }
    }
}
