import ArgumentParser
import FLAME
import FLAMEAdmin
import FLAMESlurm
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// A demo parent: two pools under steady load, printing a line a second so the pools can be
/// watched breathing.
@main
struct FlameDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flame-demo",
        abstract: "Run two FLAME pools (thumbnails, reports) under steady load.",
        discussion: """
            Runners are copies of this executable. Every second a status line shows calls \
            done, failed and timed out, runners (busy/total) and queue depth per pool. Stop \
            with Ctrl-C: pools drain and runners exit.
            """)

    @Option(help: "Calls started per second, across both pools.")
    var rate: Double = 40

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var duration: Double?

    @Option(help: "Where runners run: local (processes on this machine) or slurm (jobs on a Slurm cluster, via srun).")
    var backend: BackendChoice = .local

    enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
        case local, slurm
    }

    @Option(help: "With --backend slurm: the partition runners are submitted to (default: the cluster's default).")
    var partition: String?

    @Option(help: "With --backend slurm: the address the parent listens on for runners (host, or host:port).")
    var listen: String = "127.0.0.1"

    @Option(help: "With --backend slurm: the host runners dial back to (default: the --listen host, or this host's name for a wildcard).")
    var advertise: String?

    func validate() throws {
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be more than 0 and at most 100000 calls per second, got \(rate)") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive, got \(duration)") }
        if backend == .local, partition != nil || advertise != nil || listen != "127.0.0.1" {
            throw ValidationError("--partition, --listen and --advertise apply to --backend slurm only")
        }
        _ = try listenAddress()
    }

    /// `--listen` as host and port (0: any free port).
    func listenAddress() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), !listen.hasSuffix("]") else { return (listen, 0) }
        guard let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen takes a host or host:port, got \(listen)")
        }
        return (String(listen[..<colon]), port)
    }

    /// Runners on this machine, or Slurm jobs that dial back to a listener.
    func makeBackend() async throws -> any Backend {
        switch backend {
        case .local:
            return LocalProcessBackend()
        case .slurm:
            let (host, port) = try listenAddress()
            let listener = try await RunnerListener.start(.init(host: host, port: port, advertisedHost: advertise))
            print("flame-demo: runners are Slurm jobs (srun) dialing \(listener.advertisedAddress)")
            return SlurmBackend(options: SlurmOptions(partition: partition), listener: listener)
        }
    }

    func run() async throws {
        // In a runner this never returns: everything below is the parent's.
        try await FLAME.bootstrap()

        LoggingSystem.bootstrap { label in
            var console = StreamLogHandler.standardError(label: label)
            console.logLevel = .warning
            // The admin socket's parent log keeps info and above; the console shows warnings.
            return ParentLogHandler(label: label, passingTo: console, logLevel: .info)
        }
        let backend = try await makeBackend()
        let thumbnails = try await Pool(
            PoolConfiguration(name: "thumbnails", min: 0, max: 8, maxConcurrency: 4, timeout: .seconds(2), idleShutdownAfter: .seconds(10)),
            backend: backend)
        let reports = try await Pool(
            PoolConfiguration(name: "reports", min: 1, max: 3, maxConcurrency: 8, timeout: .seconds(2), idleShutdownAfter: .seconds(10)),
            backend: backend)
        let admin = AdminServer(.init(app: "flame-demo"))
        try await admin.start()
        print("admin socket: \(admin.path)")
        print("flame-demo: pid \(getpid()), \(rate) calls/s; pools thumbnails (max 8) and reports (min 1, max 3)")
        fflush(nil)

        let load = LoadGenerator(thumbnails: thumbnails, reports: reports, rate: rate, duration: duration)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: thumbnails), .init(service: reports), .init(service: admin),
                    .init(service: load, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "flame-demo")))
        try await group.run()
        print("flame-demo: stopped; all runners exited")
    }
}
