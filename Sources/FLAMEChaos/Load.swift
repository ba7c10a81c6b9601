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
    /// The distinct messages of the failures, by code (at most 100 a code; they differ by
    /// runner id), so a scenario can check what the errors said.
    var messages: [String: Set<String>] = [:]

    mutating func failed(_ error: any Error) {
        let code = failureName(error)
        failures[code, default: 0] += 1
        if messages[code, default: []].count < 100 { messages[code, default: []].insert("\(error)") }
    }
}

/// A steady load: `callers` tasks each calling `SlowEcho` with its own values, one call at
/// a time, until stopped. Every call is accounted for: answered with its own value, failed
/// with an error (counted by code), or lost — not back within its timeout plus `grace`, and
/// then counted only as lost, whatever it finally returned. (A second answer to a call
/// cannot reach its caller: the first removes the call's `CallTable` entry, so it is dropped
/// as an orphan.)
final class Load: Sendable {
    let pool: Pool
    let callTimeout: Duration
    let jobMilliseconds: Int
    static let grace: Duration = .seconds(2)

    private let tally = Mutex(LoadTally())
    /// When each caller's current call started, while it is in flight.
    private let inFlight = Mutex([Int: ContinuousClock.Instant]())
    private let stopping = Atomic<Bool>(false)
    private let tasks = Mutex([Task<Void, Never>]())

    init(pool: Pool, callers: Int, callTimeout: Duration = .seconds(3), jobMilliseconds: Int = 5) {
        self.pool = pool
        self.callTimeout = callTimeout
        self.jobMilliseconds = jobMilliseconds
        let started = (0..<callers).map { caller in Task { await self.callLoop(caller) } }
        tasks.withLock { $0 = started }
    }

    private func callLoop(_ caller: Int) async {
        var sequence = 0
        while !stopping.load(ordering: .relaxed) {
            let value = caller << 32 | sequence
            sequence += 1
            let started = ContinuousClock.now
            inFlight.withLock { $0[caller] = started }
            let outcome: Result<Int, any Error>
            do {
                outcome = .success(try await pool.call(SlowEcho(value, milliseconds: jobMilliseconds), timeout: callTimeout))
            } catch {
                outcome = .failure(error)
            }
            let late = ContinuousClock.now - started > callTimeout + Self.grace
            inFlight.withLock { $0[caller] = nil }
            tally.withLock { tally in
                tally.calls += 1
                switch outcome {
                case _ where late: tally.lost += 1
                case .success(let answer) where answer == value: tally.succeeded += 1
                case .success: tally.wrong += 1
                case .failure(let error): tally.failed(error)
                }
            }
            if case .failure = outcome { try? await Task.sleep(for: .milliseconds(20)) }  // no hot loop while the pool heals
        }
    }

    /// Stops calling and waits for the calls in flight; those not back within their timeout
    /// plus the grace period count as lost (and are cancelled).
    func stop() async -> LoadTally {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + callTimeout + Self.grace + .seconds(1)
        while ContinuousClock.now < deadline, !inFlight.withLock({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let stuck = inFlight.withLock { $0.count }
        for task in tasks.withLock({ $0 }) { task.cancel() }
        return tally.withLock { tally in
            tally.lost += stuck
            tally.calls += stuck
            return tally
        }
    }
}
