import CFLAMEShims
import FLAMEWire
public import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The entry point of the runner side.
public enum FLAME {
    /// True in a runner process (one started with `FLAME_PARENT` in its environment).
    public static let isRunner: Bool = getenv(ParentDescriptor.environmentKey) != nil

    /// Call at the start of `main`. In a runner it connects to the parent and serves jobs
    /// until the parent stops it or goes away, then exits the process: it never returns.
    /// In any other process it records `resources` and returns at once.
    ///
    /// Everything `main` does before this call also happens in every runner; set up what
    /// jobs need (configuration, connection pools) before it and pass it as `resources`.
    public static func bootstrap(resources: Resources = Resources(), logger: Logger = Logger(label: "flame.runner")) async throws {
        Resources.install(resources)
        guard let raw = getenv(ParentDescriptor.environmentKey) else { return }
        let descriptor = try ParentDescriptor.decode(String(cString: raw))
        // A pool created by a job on this runner must not think it is the runner's parent;
        // `isRunner` is read first so it keeps saying true.
        _ = isRunner
        unsetenv(ParentDescriptor.environmentKey)
        try await RunnerServer.serve(descriptor, logger: logger)
    }
}

/// The runner side of the protocol: hello, then serve calls and child services until told
/// to shut down or until the parent goes away.
enum RunnerServer {
    static func serve(_ descriptor: ParentDescriptor, logger: Logger) async throws -> Never {
        // Second line of defence after the spawner thread: die with the parent, and check
        // it has not died already (then the signal would never come). A runner that is not
        // its parent's child (a cluster job) relies on the connection's end alone.
        if descriptor.parentPID != 0 {
            _ = flame_set_parent_death_signal(SIGKILL)
            if getppid() != descriptor.parentPID { terminateProcess(70) }
        }
        flame_line_buffer_stdout()
        let fd: Int32
        var host = "local"
        if let inherited = descriptor.fd {
            fd = inherited
        } else if let address = descriptor.address {
            fd = try ParentDialer.connect(to: address)
            host = ProcessEnvironment.value(of: "SLURMD_NODENAME") ?? ParentDialer.hostName()
        } else {
            throw FLAMEError(.notARunner, "FLAME_PARENT names no transport this runner supports")
        }
        let writer = SocketWriter(fd: fd)
        let hello = RunnerHello(
            runnerID: descriptor.runnerID, token: descriptor.token, buildID: BuildIdentity.current(),
            pid: Int64(getpid()), host: host, clusterJob: ProcessEnvironment.value(of: "SLURM_JOB_ID") ?? "")
        writer.send { RunnerMessage.hello(hello).encodeFrame(into: &$0) }
        let session = RunnerSession(writer: writer, logger: logger)
        startThread { session.readLoop(fd: fd) }
        await session.waitForever()
    }
}

/// Ends the runner process now: flushes stdio and skips atexit handlers, which could
/// deadlock against threads still running jobs.
func terminateProcess(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}
