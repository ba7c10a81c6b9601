@testable import FLAMEAdmin
import Testing

/// A manual clock's instant for the admin server's slot and budget policies.
struct Tick: InstantProtocol, Sendable {
    var offset: Duration
    func advanced(by duration: Duration) -> Tick { Tick(offset: offset + duration) }
    func duration(to other: Tick) -> Duration { other.offset - offset }
    static func < (lhs: Tick, rhs: Tick) -> Bool { lhs.offset < rhs.offset }
}

func second(_ seconds: Double) -> Tick { Tick(offset: .milliseconds(Int64(seconds * 1000))) }

@Suite(.timeLimit(.minutes(1))) struct AdminSlotsTests {
    func slots(maximum: Int = 2) -> AdminSlots<Tick> {
        AdminSlots(limits: .init(maximum: maximum, helloTimeout: .seconds(5), idleTimeout: .seconds(60)))
    }

    @Test func aFullServerDisplacesTheOldestHellolessThenTheLongestIdleThenRefuses() {
        var slots = slots()
        let first = slots.admit(1, now: second(0))
        let second1 = slots.admit(2, now: second(1))
        #expect(first == .admitted(evicting: nil, reason: nil) && second1 == .admitted(evicting: nil, reason: nil))
        slots.greeted(2, now: second(1))
        // 1 never said hello: it goes first, though 2 is older in activity terms too.
        guard case .admitted(evicting: 1, _) = slots.admit(3, now: second(2)) else { Issue.record("1 not displaced"); return }
        slots.greeted(3, now: second(2))
        // Both greeted: the longest idle goes, once quiet for a second.
        guard case .admitted(evicting: 2, _) = slots.admit(4, now: second(3)) else { Issue.record("2 not displaced"); return }
        slots.greeted(4, now: second(3))
        slots.streams(3, count: 1, now: second(3))
        // 3 streams, 4 just spoke: nobody may go.
        guard case .refused = slots.admit(5, now: second(3.5)) else { Issue.record("5 admitted"); return }
        #expect(slots.count == 2)
    }

    /// A flood of connections from one process displaces its own, not an operator's
    /// connection whose hello is on its way.
    @Test func theFloodingProcessLosesItsOwnSlotsFirst() {
        var slots = slots(maximum: 3)
        _ = slots.admit(1, pid: 100, now: second(0))  // the operator
        _ = slots.admit(2, pid: 666, now: second(1))
        _ = slots.admit(3, pid: 666, now: second(2))
        guard case .admitted(evicting: 2, _) = slots.admit(4, pid: 666, now: second(3)) else { Issue.record("the flooder's oldest not displaced"); return }
        guard case .admitted(evicting: 3, _) = slots.admit(5, pid: 666, now: second(4)) else { Issue.record("the flooder's next not displaced"); return }
        #expect(slots.slots[1] != nil, "the operator keeps its slot")
    }

    /// Streaming peers that stopped reading can be displaced: 64 stalled subscribers locked
    /// operators out.
    @Test func aBackedUpStreamingConnectionMakesRoom() {
        var slots = slots(maximum: 2)
        for id: UInt64 in 1...2 {
            _ = slots.admit(id, now: second(0))
            slots.greeted(id, now: second(0))
            slots.streams(id, count: 1, now: second(0))
        }
        guard case .refused = slots.admit(3, now: second(5)) else { Issue.record("admitted while both read what they stream"); return }
        slots.backedUp(2, true, now: second(6))
        guard case .admitted(evicting: 2, _) = slots.admit(4, now: second(7)) else { Issue.record("the stalled one not displaced"); return }
    }

    @Test func hellolessAndIdleConnectionsExpire() {
        var slots = slots(maximum: 10)
        _ = slots.admit(1, now: second(0))
        _ = slots.admit(2, now: second(0))
        slots.greeted(2, now: second(1))
        _ = slots.admit(3, now: second(0))
        slots.greeted(3, now: second(1))
        slots.streams(3, count: 1, now: second(1))
        let early = slots.expire(now: second(4.9))
        let helloless = slots.expire(now: second(5))
        slots.active(2, now: second(30))
        let notYet = slots.expire(now: second(89))
        let idle = slots.expire(now: second(90))
        let streaming = slots.expire(now: second(1000))
        #expect(early.isEmpty)
        #expect(helloless.map(\.id) == [1])
        #expect(notYet.isEmpty)
        #expect(idle.map(\.id) == [2], "idle 60 s after its last request")
        #expect(streaming.isEmpty, "a streaming connection never idles out")
    }
}

@Suite(.timeLimit(.minutes(1))) struct RequestBudgetTests {
    @Test func burstsThenTheRate() {
        var budget = RequestBudget(rate: 10, burst: 20, now: second(0))
        var burst = 0
        for _ in 0..<25 where budget.take(now: second(0)) { burst += 1 }
        let tooSoon = budget.take(now: second(0.05))
        let refilled = budget.take(now: second(0.1))
        var later = 0
        for _ in 0..<100 where budget.take(now: second(100)) { later += 1 }
        #expect(burst == 20)
        #expect(!tooSoon)
        #expect(refilled, "one token a tenth of a second")
        #expect(later == 20, "refills to the burst, no more")
    }
}
