import FLAME
import FLAMETestJobs
import Synchronization

/// Counts of a steady load's calls.
struct LoadTally: Sendable {
    var calls = 0
    var succeeded = 0
    var lost = 0
    var wrong = 0
    var failures: [String: Int] = [:]
    /// Failures that broke the load's `expectedFailure` rule: how many, and the first few.
    var unexpectedFailures = 0
    var unexpectedSamples: [String] = []

    /// Counts one call that asked for `value`, once: lost when `late` (whatever it returned),
    /// else succeeded, wrong or failed by its outcome; a failure `expectedFailure` rejects
    /// is also counted as unexpected.
    mutating func record(
        _ outcome: Result<Int, any Error>, asked value: Int, late: Bool, expectedFailure: ((any Error) -> Bool)? = nil
    ) {
        calls += 1
        switch outcome {
        case _ where late: lost += 1
        case .success(let answer) where answer == value: succeeded += 1
        case .success: wrong += 1
        case .failure(let error):
            failures[failureName(error), default: 0] += 1
            if let expectedFailure, !expectedFailure(error) {
                unexpectedFailures += 1
                if unexpectedSamples.count < 3 { unexpectedSamples.append("\(error)") }
            }
        }
    }
}

/// A steady load: `callers` tasks each calling `SlowEcho` with its own values, one call at
/// a time, until stopped. Every call is accounted for, once: answered with its own value,
/// failed with an error (counted by code, and checked against `expectedFailure`), or lost —
/// not back within its timeout plus `grace`, and then counted only as lost, whatever it
/// finally returned. (A second answer to a call cannot reach its caller: the first removes
/// the call's `CallTable` entry, so it is dropped as an orphan.)
final class Load: Sendable {
    let pool: Pool
    let callTimeout: Duration
    let jobMilliseconds: Int
    /// Which failures the scenario expects; every other one is counted in
    /// `unexpectedFailures`. Nil: any failure is fine (the scenario checks the codes).
    let expectedFailure: (@Sendable (any Error) -> Bool)?
    static let grace: Duration = .seconds(2)

    private struct State {
        var tally = LoadTally()
        /// The callers whose call is in flight.
        var inFlight: Set<Int> = []
        /// Set by `stop()`: calls that end later were already counted as lost.
        var closed = false
    }
    private let state = Mutex(State())
    private let stopping = Atomic<Bool>(false)
    private let tasks = Mutex([Task<Void, Never>]())

    init(
        pool: Pool, callers: Int, callTimeout: Duration = .seconds(3), jobMilliseconds: Int = 5,
        expectedFailure: (@Sendable (any Error) -> Bool)? = nil
    ) {
        self.pool = pool
        self.callTimeout = callTimeout
        self.jobMilliseconds = jobMilliseconds
        self.expectedFailure = expectedFailure
        let started = (0..<callers).map { caller in Task { await self.callLoop(caller) } }
        tasks.withLock { $0 = started }
    }

    private func callLoop(_ caller: Int) async {
        var sequence = 0
        while !stopping.load(ordering: .relaxed) {
            let value = caller << 32 | sequence
            sequence += 1
            let started = ContinuousClock.now
            state.withLock { _ = $0.inFlight.insert(caller) }
            let outcome: Result<Int, any Error>
            do {
                outcome = .success(try await pool.call(SlowEcho(value, milliseconds: jobMilliseconds), timeout: callTimeout))
            } catch {
                outcome = .failure(error)
            }
            let late = ContinuousClock.now - started > callTimeout + Self.grace
            state.withLock { state in
                guard !state.closed else { return }
                state.inFlight.remove(caller)
                state.tally.record(outcome, asked: value, late: late, expectedFailure: expectedFailure)
            }
            if case .failure = outcome { try? await Task.sleep(for: .milliseconds(20)) }  // no hot loop while the pool heals
        }
    }

    /// Stops calling and waits for the calls in flight; those not back within their timeout
    /// plus the grace period count as lost (and are cancelled).
    func stop() async -> LoadTally {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + callTimeout + Self.grace + .seconds(1)
        while ContinuousClock.now < deadline, !state.withLock({ $0.inFlight.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Close the books before cancelling: a call the cancellation ends is already lost.
        let tally = state.withLock { state in
            state.closed = true
            state.tally.lost += state.inFlight.count
            state.tally.calls += state.inFlight.count
            return state.tally
        }
        for task in tasks.withLock({ $0 }) { task.cancel() }
        return tally
    }
}
