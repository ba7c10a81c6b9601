import Synchronization

/// How a short-lived helper program ran (a cluster's `scancel` or `squeue`).
package struct ProgramRun: Sendable {
    /// "exited with status 0", "was killed by signal 9 (SIGKILL)", or why it could not start.
    package var how: String
    /// Its stdout and stderr lines, in the order each stream gave them.
    package var lines: [String]
    package var succeeded: Bool { how == describeExit(0) }

    /// Runs `executable` with `arguments` to its end, spawned and reaped as runners are (so
    /// it dies with this process). Never throws: a program that cannot start is a failed run.
    package static func run(_ executable: String, _ arguments: [String]) async -> ProgramRun {
        let lines = Mutex<[String]>([])
        let spec = RunnerSpec(runnerID: executable, poolName: "", heartbeatInterval: .seconds(1), shutdownTimeout: .seconds(1))
        return await withCheckedContinuation { continuation in
            let request = LaunchRequest(spec: spec, environment: [:], output: { line, _ in lines.withLock { $0.append(line) } }) { how in
                continuation.resume(returning: ProgramRun(how: how, lines: lines.withLock { $0 }))
            }
            Task {
                do {
                    _ = try await LocalProcessLauncher(executable: executable, arguments: arguments).launch(request, inheriting: nil)
                } catch {
                    continuation.resume(returning: ProgramRun(how: "could not start: \(error)", lines: []))
                }
            }
        }
    }
}
