import FLAME

/// How long and how hard the chaos suite pushes: `short` runs inside `make test`, `long` is
/// `make chaos`.
public struct ChaosProfile: Sendable {
    /// How long faults are injected under load in each fault scenario.
    public var faultPhase: Duration
    /// How long the soak runs, scaling up and down every few seconds.
    public var soak: Duration
    /// Concurrent callers of the steady load.
    public var callers: Int

    public init(faultPhase: Duration, soak: Duration, callers: Int) {
        self.faultPhase = faultPhase
        self.soak = soak
        self.callers = callers
    }

    public static let short = ChaosProfile(faultPhase: .seconds(8), soak: .seconds(20), callers: 12)
    public static let long = ChaosProfile(faultPhase: .seconds(60), soak: .seconds(600), callers: 24)
}

/// What one scenario did and what it saw. `lost` and `wrong` must be zero.
public struct ScenarioReport: Sendable, CustomStringConvertible {
    public var name: String
    public var faults = 0
    /// Of `faults`, the cancellations of a runner's cluster job (Slurm runners).
    public var cancelledJobs = 0
    public var calls = 0
    public var succeeded = 0
    /// Calls that failed, by `FLAMEError` code (or the error's type name).
    public var failures: [String: Int] = [:]
    /// Failures the scenario's load did not expect: how many, and the first few.
    public var unexpectedFailures = 0
    public var unexpectedSamples: [String] = []
    /// Calls that did not return within their timeout plus a grace period.
    public var lost = 0
    /// Calls answered with a value that was not theirs.
    public var wrong = 0
    /// The longest a fault took to heal (the pool back to its demand).
    public var maxRecovery: Duration?
    public var before: ProcessProbe.Sample?
    public var after: ProcessProbe.Sample?
    /// What the scenario checked beyond the counts, and anything that broke an expectation.
    public var checks: [String] = []
    public var problems: [String] = []

    public init(name: String) { self.name = name }

    /// No call lost or misanswered, and every scenario-specific expectation held.
    public var passed: Bool { lost == 0 && wrong == 0 && problems.isEmpty }

    mutating func absorb(_ load: LoadTally) {
        calls += load.calls
        succeeded += load.succeeded
        lost += load.lost
        wrong += load.wrong
        for (code, count) in load.failures { failures[code, default: 0] += count }
        unexpectedFailures += load.unexpectedFailures
        unexpectedSamples += load.unexpectedSamples.prefix(3 - min(3, unexpectedSamples.count))
    }

    mutating func expect(_ condition: Bool, _ what: String) {
        if condition { checks.append(what) } else { problems.append(what) }
    }

    public var description: String {
        let failed = failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(name): faults \(faults), calls \(calls), lost \(lost), wrong \(wrong), failed [\(failed)]"
            + (problems.isEmpty ? "" : "; PROBLEMS: " + problems.joined(separator: "; "))
    }
}

/// The name a failure is counted under.
func failureName(_ error: any Error) -> String {
    if let flame = error as? FLAMEError { return "\(flame.code)" }
    if error is CancellationError { return "cancelled" }
    return "\(type(of: error))"
}

extension Result {
    /// The error, or nil for a success. (Package-wide: the tests use it too.)
    package var error: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
