@testable import FLAME
import FLAMETestSupport
import Testing

/// What FLAME's users reported against its pool (phoenixframework/flame issues), checked
/// against ours on the state machine with a manual clock.
@Suite(.timeLimit(.minutes(1))) struct FlameReportsTests {
    /// flame#60: a single-use pool must not drop below `min`: the runner that served its one
    /// call drains, and its replacement boots right then, not after its exit.
    @Test func aSingleUsePoolBootsTheReplacementAsItsRunnerDrains() throws {
        var machine = makeMachine(min: 1, max: 2, singleUse: true)
        let first = try #require(machine.start(now: at(0)).boots.first)
        boot(&machine, first, at: at(0.1))
        let (_, placed) = machine.checkoutRequested(deadline: at(30), now: at(0.2))
        let call = try #require(placed.placements.first).call
        let finished = machine.callFinished(call, succeeded: true, on: first, now: at(0.3))
        #expect(finished.stops == [first])
        #expect(finished.boots.count == 1, "a replacement for min 1 boots with the drain: \(finished)")
        #expect(machine.activeRunnerCount >= 1)
    }

    /// flame#64: a burst of callers while every boot fails never takes the pool past `max`.
    @Test func aBurstWithFailingBootsNeverPassesMax() throws {
        var machine = makeMachine(max: 3, maxConcurrency: 2)
        var booting: [String] = []
        for index in 0..<50 {
            booting += machine.checkoutRequested(deadline: at(30), now: at(Double(index) / 100)).1.boots
            #expect(machine.activeRunnerCount <= 3)
        }
        for round in 0..<20 {
            let now = at(1 + Double(round))
            for id in booting { booting += machine.runnerBootFailed(id, error: FLAMEError(.bootFailed, "no capacity"), now: now).boots }
            booting = machine.runners.values.filter(\.isBooting).map(\.id)
            booting += machine.tick(now: now.advanced(by: .milliseconds(500))).boots
            #expect(machine.activeRunnerCount <= 3, "round \(round): \(machine.activeRunnerCount) runners")
        }
    }

    /// flame#73: a call timeout shorter than a boot fails that caller at its timeout, and the
    /// boot goes on: the runner it brings serves the next caller.
    @Test func aCallTimeoutShorterThanABootFailsTheCallerButKeepsTheBoot() throws {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(1), now: at(0))
        let booting = try #require(actions.boots.first)
        let expired = machine.tick(now: at(1))
        #expect(expired.failedWaiters.map(\.0) == [waiter])
        #expect(!expired.contains { if case .abortBoot = $0 { true } else { false } }, "the boot is not aborted")
        boot(&machine, booting, at: at(3))
        let next = machine.checkoutRequested(deadline: at(10), now: at(3.1))
        #expect(next.1.placements.map(\.runner) == [booting])
    }

    /// flame#66: one runner's crash (or OOM kill) fails its own calls only; the other
    /// runner's calls and new callers carry on.
    @Test func oneRunnersCrashFailsOnlyItsOwnCalls() throws {
        var machine = makeMachine(max: 2, maxConcurrency: 1)
        let a = machine.checkoutRequested(deadline: at(30), now: at(0))
        let b = machine.checkoutRequested(deadline: at(30), now: at(0))
        let (first, second) = (try #require(a.1.boots.first), try #require(b.1.boots.first))
        let onFirst = try #require(boot(&machine, first, at: at(0.1)).placements.first)
        let onSecond = try #require(boot(&machine, second, at: at(0.1)).placements.first)
        let crashed = machine.runnerExited(onFirst.runner, reason: FLAMEError(.runnerExited, "was killed by signal 9 (SIGKILL)"), now: at(1))
        #expect(crashed.failedCalls.map(\.0) == [onFirst.call])
        #expect(machine.calls[onSecond.call] != nil, "the other runner's call goes on")
        let finished = machine.callFinished(onSecond.call, succeeded: true, on: onSecond.runner, now: at(1.1))
        #expect(finished.failedCalls.isEmpty)
        let next = machine.checkoutRequested(deadline: at(30), now: at(1.2))
        #expect(next.1.placements.map(\.runner) == [onSecond.runner] || !next.1.boots.isEmpty)
    }
}
