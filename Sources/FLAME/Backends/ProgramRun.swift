import Synchronization

/// How a short-lived helper program ran (a cluster's `scancel` or `squeue`).
package struct ProgramRun: Sendable {
    /// "exited with status 0", "was killed by signal 9 (SIGKILL)", or why it could not start.
    package var how: String
    /// Its stdout and stderr lines, in the order each stream gave them.
    package var lines: [String]
    package var succeeded: Bool { how == describeExit(0) }

    /// Runs `executable` with `arguments` to its end, spawned and reaped as runners are (so
    /// it dies with this process), killed (SIGKILL) if it outlives `timeout`. Never throws: a
    /// program that cannot start is a failed run.
    package static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)) async -> ProgramRun {
        let lines = Mutex<[String]>([])
        let deadline = Deadline()
        // LaunchRequest describes a runner; this spec only names the program in its errors.
        let spec = RunnerSpec(runnerID: executable, poolName: "", heartbeatInterval: .seconds(1), shutdownTimeout: .seconds(1))
        return await withCheckedContinuation { continuation in
            let request = LaunchRequest(spec: spec, environment: [:], output: { line, _ in lines.withLock { $0.append(line) } }) { how in
                deadline.cancel()
                continuation.resume(returning: ProgramRun(how: how, lines: lines.withLock { $0 }))
            }
            Task {
                do {
                    let process = try await LocalProcessLauncher(executable: executable, arguments: arguments).launch(request, inheriting: nil)
                    deadline.start(Task {
                        try? await Task.sleep(for: timeout)
                        if !Task.isCancelled { process.kill() }
                    })
                } catch {
                    continuation.resume(returning: ProgramRun(how: "could not start: \(error)", lines: []))
                }
            }
        }
    }
}

/// The timer that kills a helper program that outlives its timeout; cancelled once it ends
/// (it may end before the timer is even started).
private final class Deadline: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func start(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.task
        }?.cancel()
    }
}
