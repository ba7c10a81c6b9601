@testable import FLAME
import FLAMETestSupport
import Testing

/// The runner table's phase counts against a recount, after every write of a random
/// sequence of boots, phase changes and removals.
@Suite(.timeLimit(.minutes(1))) struct RunnerTableTests {
    @Test func countsFollowEveryWrite() {
        var random = TestRandom.forTest()
        var table = Machine.RunnerTable()
        let phases: [Machine.Phase] = [.booting(deadline: at(1)), .ready, .draining, .exiting(killAt: nil)]
        for step in 0..<20_000 {
            let id = "r\(Int.random(in: 0..<50, using: &random))"
            switch Int.random(in: 0..<4, using: &random) {
            case 0: table[id] = Machine.Runner(id: id, phase: phases.randomElement(using: &random)!)
            case 1: table[id]?.phase = phases.randomElement(using: &random)!
            case 2: table[id]?.inFlight += 1  // a write that keeps the phase
            default: table.removeValue(forKey: id)
            }
            let booting = table.values.count { if case .booting = $0.phase { true } else { false } }
            let ready = table.values.count { $0.phase == .ready }
            #expect(table.bootingCount == booting, "step \(step)")
            #expect(table.readyCount == ready, "step \(step)")
            if table.bootingCount != booting || table.readyCount != ready { return }
        }
    }
}
