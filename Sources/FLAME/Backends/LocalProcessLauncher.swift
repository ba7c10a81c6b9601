import CFLAMEShims
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Launches runners as new processes of an executable on this machine (by default this
/// very one, `/proc/self/exe`): the launcher of ``LocalProcessBackend`` in both its modes.
///
/// Processes are spawned from one dedicated thread (so `PR_SET_PDEATHSIG` means "the parent
/// process died"), their stdout and stderr are read line by line on the shared event loops,
/// and they are reaped through pidfds by ``ProcessReaper``.
public struct LocalProcessLauncher: RunnerLauncher {
    public var executable: String
    public var arguments: [String]
    /// Extra environment for runners, on top of the parent's.
    public var environment: [String: String]
    /// Which of the parent's own variables the process inherits (all, by default): a
    /// launcher can keep its parent's context out (the Slurm one drops the variables of an
    /// allocation the parent runs in).
    package var inherits: @Sendable (_ name: String) -> Bool = { _ in true }

    public init(executable: String = "/proc/self/exe", arguments: [String]? = nil, environment: [String: String] = [:]) {
        self.executable = executable
        self.arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        self.environment = environment
    }

    public var buildID: String { BuildIdentity.of(path: executable, environment: nil) }
    public var launchesChildren: Bool { true }

    public func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        try await launch(request, inheriting: nil)
    }

    /// Launches with `socket` (when given) as the runner's descriptor 3.
    package func launch(_ request: LaunchRequest, inheriting socket: Int32?) async throws -> LocalRunnerProcess {
        var environment = currentEnvironment().filter { inherits($0.key) }
        for (key, value) in self.environment { environment[key] = value }
        for (key, value) in request.environment { environment[key] = value }
        var stdoutPipe: [Int32] = [-1, -1]
        var stderrPipe: [Int32] = [-1, -1]
        guard flame_pipe_cloexec(&stdoutPipe) == 0, flame_pipe_cloexec(&stderrPipe) == 0 else {
            let message = String(cString: strerror(errno))
            for fd in stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw FLAMEError(.bootFailed, "pipe2 failed: \(message)")
        }
        let executable = self.executable
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        let from: [Int32] = (socket.map { [$0] } ?? []) + [stdoutPipe[1], stderrPipe[1]]
        let to: [Int32] = (socket == nil ? [] : [3]) + [1, 2]
        let (result, pid) = await Spawner.shared.run { () -> (Int32, Int32) in
            withCStrings(argv) { argvPointer in
                withCStrings(envp) { envpPointer in
                    var pid: pid_t = 0
                    let result = flame_spawn(&pid, executable, argvPointer, envpPointer, from, to, Int32(from.count))
                    // At once, on this thread: the child has only just exec'd.
                    if result == 0 { DescriptorLimit.restoreOriginal(in: pid) }
                    return (result, pid)
                }
            }
        }
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw FLAMEError(.bootFailed, "cannot launch \(executable): \(String(cString: strerror(result)))")
        }
        let process = LocalRunnerProcess(pid: pid, request: request)
        await process.readOutput(stdout: stdoutPipe[0], stderr: stderrPipe[0])
        ProcessReaper.shared.watch(pid: pid) { process.tryReap() }
        return process
    }

    private func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = flame_environ()
        while let entry = pointer?.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer = pointer?.advanced(by: 1)
        }
        return result
    }
}

/// Calls `body` with a NULL-terminated C array of C strings that lives for the call.
package func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
