@testable import FLAMEPolicy
import FLAMETestSupport
import Testing

/// The runner table's phase counts against a recount, after every change of a random
/// sequence of boots, legal phase transitions, work and removals.
@Suite(.timeLimit(.minutes(1))) struct RunnerTableTests {
    @Test func countsFollowEveryChange() {
        var random = TestRandom.forTest()
        var table = Machine.RunnerTable()
        var next = 0
        for step in 0..<20_000 {
            guard let id = table.ids.randomElement(using: &random), Int.random(in: 0..<8, using: &random) != 0 else {
                next += 1
                table.insert(Machine.Runner(id: "r\(next)", bootDeadline: at(1)))
                continue
            }
            let runner = table[id]!
            switch (runner.phase, Int.random(in: 0..<5, using: &random)) {
            case (.booting, 0): table.remove(id)
            case (.booting, _): table.update(id) { $0.helloAccepted(now: at(0)) }
            case (_, 0): table.remove(id)
            case (.ready, 1), (.draining, 1): table.update(id) { $0.drain() }
            case (.ready, 2), (.draining, 2): table.update(id) { $0.stop(killAt: at(2)) }
            case (.ready, 3), (.draining, 3): table.update(id) { $0.callPlaced(isChild: false) }  // keeps the phase
            case (_, 4) where runner.inFlight > 0: table.update(id) { $0.callFinished(isChild: false, succeeded: true) }
            default: table.update(id) { $0.kill(reason: FLAMEError(.runnerKilled, "test")) }
            }
            let booting = table.values.count(where: \.isBooting)
            let ready = table.values.count { $0.phase == .ready }
            #expect(table.bootingCount == booting, "step \(step)")
            #expect(table.readyCount == ready, "step \(step)")
            #expect(table.order.count == table.count && Set(table.order) == Set(table.ids), "step \(step)")
            if table.bootingCount != booting || table.readyCount != ready { return }
        }
    }
}
