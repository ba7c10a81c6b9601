import FLAMETestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// flame-demo --backend slurm as a user runs it: its jobs as squeue shows them, flamectl on
/// its admin socket, and what is left of its jobs after it ends, however it ends. In the
/// serialized suite (the tests share the cluster's CPUs).
extension SlurmBackendTests {
    enum ParentEnd: String, CaseIterable, CustomTestStringConvertible {
        /// `--duration` runs out: the pools shut down.
        case cleanExit
        case sigterm
        case sigkill
        /// SIGKILL while every job of the demo still pends (the cluster is full).
        case sigkillWhilePending

        var testDescription: String { rawValue }
    }

    @Test(arguments: ParentEnd.allCases) func noJobIsLeftBehindWhenTheParentEnds(_ end: ParentEnd) async throws {
        try SlurmCluster.require()
        if end == .sigkillWhilePending {
            try await SlurmCluster.occupyEveryNode { _ in try await parentEnds(end) }
        } else {
            try await parentEnds(end)
        }
    }

    /// Starts flame-demo on Slurm runners, ends it as `end` says, and checks squeue.
    private func parentEnds(_ end: ParentEnd) async throws {
        let duration = end == .cleanExit ? ["--duration", "4"] : []
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--backend", "slurm", "--rate", "20"] + duration)
        let state = end == .sigkillWhilePending ? "PENDING" : "RUNNING"
        let started = await eventually(within: .seconds(30)) { (try? await demoJobs())?.contains { $0.contains("|\(state)|") } == true }
        let seen = (try? await demoJobs()) ?? []
        #expect(started, "flame-demo's jobs reached \(state): \(seen)")
        switch end {
        case .cleanExit: #expect(await demo.waitForExit(within: .seconds(20)), "flame-demo --duration 4 exited by itself")
        case .sigterm:
            kill(demo.processIdentifier, SIGTERM)
            #expect(await demo.waitForExit(within: .seconds(10)), "flame-demo ended on SIGTERM (not the SIGKILL stop() would send later)")
        case .sigkill, .sigkillWhilePending: kill(demo.processIdentifier, SIGKILL)
        }
        let ended = ContinuousClock.now
        await demo.stop()  // waits for it (SIGTERM again is harmless)
        let gone = await eventually(within: .seconds(10)) { (try? await demoJobs())?.isEmpty == true }
        let left = (try? await demoJobs()) ?? []
        #expect(gone, "10 s after the parent ended (\(end)) squeue still lists \(left)")
        if gone { print("flame-demo's jobs left squeue \(ContinuousClock.now - ended) after \(end)") }
    }

    /// A parent that itself runs in a Slurm allocation (`salloc`, an sbatch script) inherits
    /// `SLURM_JOB_ID` and the rest: its runners must still be jobs of their own, not steps
    /// squeezed into the parent's allocation (where they waited for its one CPU).
    @Test func aParentInsideASlurmAllocationStillGetsRunnersOfTheirOwn() async throws {
        try SlurmCluster.require()
        let result = try await runCommand(
            "/usr/bin/salloc", ["--nodes=1", "--cpus-per-task=1", "--", TestRunner.sibling("flame-demo"), "--backend", "slurm", "--duration", "4"],
            timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        let last = result.stdout.split(separator: "\n").last { $0.hasPrefix("[") && $0.contains("thumbnails:") } ?? ""
        let done = last.firstMatch(of: /thumbnails: (\d+) done/).flatMap { Int($0.1) } ?? 0
        #expect(done > 0, "thumbnails served no call inside the allocation: \(last)")
        #expect(!result.stdout.contains("boot failed") && !result.stderr.contains("boot failed"), "\(result.stderr)")
    }

    @Test func flamectlShowsWhereRunnersRunAndScalesAndDrainsSlurmRunners() async throws {
        try SlurmCluster.require()
        let demo = try StreamingCommand(TestRunner.sibling("flame-demo"), ["--backend", "slurm", "--rate", "5"])
        defer { Task { await demo.stop() } }
        let line = try #require(await demo.waitForLine(within: .seconds(30)) { $0.hasPrefix("admin socket: ") })
        let socket = String(line.dropFirst("admin socket: ".count))
        let flamectl = TestRunner.sibling("flamectl")

        let scaled = try await runCommand(flamectl, ["scale", "thumbnails", "--min", "3", "--socket", socket])
        #expect(scaled.status == 0, "\(scaled.stderr)")
        #expect(await eventually(within: .seconds(20)) { (try? await demoJobs())?.filter { $0.contains("|RUNNING|flame-thumbnails-") }.count ?? 0 >= 3 })

        // The snapshot says where each runner runs: its node and its job, as squeue does.
        func connectedRunners() async throws -> [[String: Any]] {
            let json = try await runCommand(flamectl, ["status", "--json", "--socket", socket])
            let snapshot = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let pools = try #require(snapshot["pools"] as? [[String: Any]])
            return pools.flatMap { ($0["runners"] as? [[String: Any]]) ?? [] }.filter { $0["state"] as? String != "booting" }
        }
        // thumbnails' 3 and reports' 1
        #expect(await eventually(within: .seconds(20)) { (try? await connectedRunners())?.count ?? 0 >= 4 })
        let runners = try await connectedRunners()
        let jobs = try await demoJobs()
        var hosts: Set<String> = []
        for runner in runners {
            let id = try #require(runner["id"] as? String), host = try #require(runner["host"] as? String)
            let job = try #require(runner["clusterJob"] as? String, "\(id) has a clusterJob")
            hosts.insert(host)
            #expect(jobs.contains { $0.hasPrefix("\(job)|RUNNING|flame-\(id)|\(host)") }, "\(id) on \(host) in job \(job): \(jobs)")
        }
        #expect(!hosts.isEmpty && hosts.isSubset(of: ["n1", "n2"]), "runners run on the cluster's nodes: \(hosts)")
        let table = try await runCommand(flamectl, ["status", "--socket", socket])
        #expect(table.stdout.contains("HOST") && table.stdout.contains("JOB") && table.stdout.contains("n2"), "\(table.stdout)")

        // Draining a runner ends its job.
        let victim = try #require(runners.first { ($0["id"] as? String)?.hasPrefix("thumbnails-") == true })
        let id = victim["id"] as! String, job = victim["clusterJob"] as! String
        _ = try await runCommand(flamectl, ["scale", "thumbnails", "--min", "0", "--socket", socket])
        let drained = try await runCommand(flamectl, ["drain", id, "--socket", socket])
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(await eventually(within: .seconds(15)) { (try? await demoJobs())?.contains { $0.hasPrefix("\(job)|") } == false }, "job \(job) of drained \(id) ended")
        await demo.stop()
        #expect(await eventually(within: .seconds(10)) { (try? await demoJobs())?.isEmpty == true })
    }
}

/// flame-demo's jobs (the default job name prefix and its two pools), as `id|state|name|node`.
func demoJobs() async throws -> [String] {
    try await SlurmCluster.jobs(namedWith: "flame-thumbnails-") + SlurmCluster.jobs(namedWith: "flame-reports-")
}
