import FLAME
public import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real two-node Slurm cluster of scripts/slurm-up.sh, for the Slurm backend's tests.
///
/// The first use brings it up (installing Slurm from Debian if needed; `make test` has done
/// that already) and points this process's `SLURM_CONF` at it, so every srun, squeue and
/// scancel a test starts, and every runner's, talks to it.
public enum SlurmCluster {
    /// SLURM_CONF's path, or why the cluster could not be brought up (the script's output).
    public static let bringUp: Result<String, SlurmUnavailable> = {
        guard geteuid() == 0 else { return .failure(SlurmUnavailable(reason: "scripts/slurm-up.sh needs root (slurmd runs jobs as their users)")) }
        let result: CommandResult
        do {
            // Stderr into stdout, so the reason reads in order.
            result = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" 2>&1", repositoryRoot.appendingPathComponent("scripts/slurm-up.sh").path])
                .waitForExitBlocking()
        } catch {
            return .failure(SlurmUnavailable(reason: "cannot run scripts/slurm-up.sh: \(error)"))
        }
        guard result.status == 0 else {
            return .failure(SlurmUnavailable(reason: "scripts/slurm-up.sh exited with status \(result.status):\n\(result.stdout)"))
        }
        let conf = (ProcessInfo.processInfo.environment["FLAME_SLURM_DIR"] ?? "/tmp/flame-slurm") + "/etc/slurm.conf"
        setenv("SLURM_CONF", conf, 1)
        return .success(conf)
    }()

    /// Whether the cluster is up (bringing it up on first use).
    public static var isUp: Bool { (try? bringUp.get()) != nil }

    /// Why the cluster is not up, for a skipped test's message.
    public static var unavailableReason: String {
        switch bringUp {
        case .success: "the test Slurm cluster is up"
        case .failure(let error): "needs the test Slurm cluster: \(error.reason)"
        }
    }

    /// The cluster's configuration path; throws why it is not up.
    @discardableResult
    public static func require() throws -> String { try bringUp.get() }

    /// `squeue` for this cluster: one line per job, in `format` (default: id, state, name).
    public static func jobs(format: String = "%i %T %j") async throws -> [String] {
        try require()
        let result = try await runCommand("/usr/bin/squeue", ["--noheader", "--format=\(format)"])
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Jobs whose name starts with `prefix` (the launcher's job name prefix).
    public static func jobs(namedWith prefix: String) async throws -> [String] {
        try await jobs(format: "%i|%T|%j|%N").filter { $0.split(separator: "|").dropFirst(2).first?.hasPrefix(prefix) == true }
    }

    /// Runs `body` while a job of its own holds every CPU of both nodes (so that the next job
    /// pends with reason `Resources`), and ends that job however `body` ends.
    public static func occupyEveryNode<T>(_ body: (Occupation) async throws -> T) async throws -> T {
        let blocker = try await occupyEveryNode()
        do {
            let result = try await body(blocker)
            await blocker.release()
            return result
        } catch {
            await blocker.release()
            throw error
        }
    }

    /// Occupies every CPU of both nodes with a job of its own until `release()`: prefer
    /// ``occupyEveryNode(_:)``, which always releases it.
    public static func occupyEveryNode() async throws -> Occupation {
        try require()
        let result = try await runCommand(
            "/usr/bin/sbatch", ["--parsable", "--nodes=2", "--exclusive", "--job-name=flame-test-blocker", "--output=/dev/null", "--wrap=sleep 600"])
        let job = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !job.isEmpty else { throw SlurmUnavailable(reason: "sbatch failed: \(result.stderr)") }
        // Wait until it runs: then the nodes are full.
        for _ in 0..<200 {
            if try await jobs(format: "%i %T").contains("\(job) RUNNING") { return Occupation(job: job) }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try? await runCommand("/usr/bin/scancel", [job])
        throw SlurmUnavailable(reason: "the blocker job \(job) did not start within 10 s")
    }

    /// A job that holds the whole cluster.
    public struct Occupation: Sendable {
        public let job: String
        public func release() async {
            _ = try? await runCommand("/usr/bin/scancel", [job])
        }
    }
}

/// Why the test cluster is not there.
public struct SlurmUnavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "no Slurm cluster: \(reason)" }
}
