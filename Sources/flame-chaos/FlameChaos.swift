import ArgumentParser
import FLAME
import FLAMEChaos
import FLAMESlurm
import Foundation
import Logging

/// The reliability suite: real runner processes, real signals, bad boots and a soak, with
/// every call accounted for. `make chaos` runs the long profile; `make test` the short one.
@main
struct FlameChaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flame-chaos",
        abstract: "Abuse FLAME pools under load and account for every call.",
        discussion: """
            Scenarios: \(ChaosSuite.scenarioNames.joined(separator: ", ")). Each runs a steady \
            load of calls with their own values and injects its faults; a call is lost when it \
            is not back within its timeout plus 2 s, wrong when answered with another's value. \
            Exits 1 when any call is lost or wrong or a scenario's expectation fails. Runners \
            are copies of this executable.
            """)

    enum Profile: String, ExpressibleByArgument, CaseIterable {
        case short, long
    }

    @Option(help: "short: seconds per scenario (make test); long: 60 s of faults and a 10-minute soak (make chaos).")
    var profile: Profile = .short

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case socketpair, tcp, slurm
    }

    @Option(help: "How runners reach the parent: an inherited socketpair, TCP over loopback to a listener, or as Slurm jobs (srun, on the cluster SLURM_CONF names) dialing back over TCP.")
    var transport: Transport = .socketpair

    @Option(name: .customLong("scenario"), help: "Run only these scenarios (repeatable).")
    var scenarios: [String] = []

    @Option(help: "Override the soak's duration in seconds.")
    var soakSeconds: Int?

    // The admin-abuse scenario's operator, a process of its own: connect, hello, one snapshot.
    @Option(help: .hidden) var probeStatus: String?
    @Option(help: .hidden) var probeTimeout: Double = 3

    func validate() throws {
        for name in scenarios where !ChaosSuite.scenarioNames.contains(name) {
            throw ValidationError("no scenario named \(name); scenarios: \(ChaosSuite.scenarioNames.joined(separator: ", "))")
        }
        if let soakSeconds, soakSeconds < 5 { throw ValidationError("--soak-seconds must be at least 5") }
    }

    func run() async throws {
        // In a runner this never returns: everything below is the parent's.
        try await FLAME.bootstrap()
        if let probeStatus {
            let answered = await ChaosSuite.probeStatus(at: probeStatus, timeout: .milliseconds(Int64(probeTimeout * 1000)))
            throw ExitCode(answered ? 0 : 3)
        }
        // The faults are deliberate: the pools' warnings about them are noise here.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        var chosen = profile == .short ? ChaosProfile.short : ChaosProfile.long
        if let soakSeconds { chosen.soak = .seconds(soakSeconds) }
        let suite: ChaosSuite
        switch transport {
        case .socketpair:
            suite = ChaosSuite(profile: chosen, makeBackend: { LocalProcessBackend(transport: .socketpair) })
        case .tcp:
            let listener = try await RunnerListener.start()
            suite = ChaosSuite(profile: chosen, makeBackend: { LocalProcessBackend(transport: .tcp(listener)) })
        case .slurm:
            let listener = try await RunnerListener.start()
            let commands = SlurmCommands()
            suite = ChaosSuite(
                profile: chosen, makeBackend: { SlurmBackend(options: SlurmOptions(commands: commands), listener: listener) },
                cancelJob: { job in _ = await ProgramRun.run(commands.scancel, [job]) })
        }
        progress("runners over \(transport.rawValue)")
        var reports: [ScenarioReport] = []
        for name in scenarios.isEmpty ? ChaosSuite.scenarioNames : scenarios {
            progress("\(name)…")
            let started = ContinuousClock.now
            let report = try await suite.run(name)
            progress("\(name): \(report.passed ? "passed" : "FAILED") in \(Int((ContinuousClock.now - started) / .seconds(1))) s")
            for check in report.checks { progress("  ✓ \(check)") }
            for problem in report.problems { progress("  ✗ \(problem)") }
            reports.append(report)
        }
        print(ChaosTable.render(reports))
        if !reports.allSatisfy(\.passed) { throw ExitCode(1) }
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
