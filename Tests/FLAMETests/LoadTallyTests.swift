@testable import FLAMEChaos
import FLAME
import Testing

/// The chaos load's accounting: every call counted once, in exactly one column.
@Suite(.timeLimit(.minutes(1))) struct LoadTallyTests {
    @Test func aLateCallCountsOnlyAsLostWhateverItReturned() {
        var tally = LoadTally()
        tally.record(.success(7), asked: 7, late: true)
        tally.record(.failure(FLAMEError(.timeout, "late and failed")), asked: 8, late: true)
        #expect(tally.calls == 2 && tally.lost == 2)
        #expect(tally.succeeded == 0 && tally.wrong == 0 && tally.failures.isEmpty)
    }

    @Test func onTimeCallsCountByTheirOutcome() {
        var tally = LoadTally()
        tally.record(.success(1), asked: 1, late: false)
        tally.record(.success(99), asked: 2, late: false)
        tally.record(.failure(FLAMEError(.runnerExited, "runner p-1 was killed by signal 9 (SIGKILL)")), asked: 3, late: false) { _ in true }
        tally.record(.failure(FLAMEError(.timeout, "call timed out")), asked: 4, late: false) { ($0 as? FLAMEError)?.code == .runnerExited }
        #expect(tally.calls == 4 && tally.succeeded == 1 && tally.wrong == 1 && tally.lost == 0)
        #expect(tally.failures == ["runnerExited": 1, "timeout": 1])
        #expect(tally.unexpectedFailures == 1 && tally.unexpectedSamples == ["timeout: call timed out"])
    }
}
