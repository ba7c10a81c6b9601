@testable import FLAME
import FLAMETestSupport
import Testing

// Operators' actions on the pool state machine: kill, scale, drain (flamectl, flame-top, the API).

/// Killing a runner that is still booting (`flamectl kill POOL-N`, flame-top's K on a
/// booting row). It stayed listed as `exiting`, with no pid, forever. Its waiter got no
/// replacement runner, and shutdown never completed.
@Suite(.timeLimit(.minutes(1))) struct KillDuringBootTests {
    @Test func killingABootingRunnerAbortsItsBootAndAReplacementServesTheWaiter() throws {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let booting = try #require(actions.boots.first)
        let kill = machine.killRequested(runner: booting, reason: "by operator", now: at(0.2))
        let killed = try #require(kill)
        #expect(killed.contains { if case .abortBoot(booting, let reason) = $0 { reason.code == .runnerKilled } else { false } })
        #expect(machine.runners[booting] == nil, "the killed boot is no longer listed")
        // The waiter gets a replacement boot at once, and is served by it.
        let replacement = try #require(killed.boots.first, "a replacement boot for the waiting caller: \(killed)")
        #expect(replacement != booting)
        let served = boot(&machine, replacement, at: at(0.5))
        #expect(served.placements.map(\.waiter) == [waiter])
        // The aborted boot's late report changes nothing.
        let lateHello = machine.runnerBooted(booting, now: at(0.6))
        #expect(lateHello == nil)
        let lateFailure = machine.runnerBootFailed(booting, error: FLAMEError(.bootFailed, "aborted"), now: at(0.6))
        #expect(lateFailure.isEmpty)
    }

    @Test func shutdownCompletesAfterABootingRunnerWasKilled() throws {
        var machine = makeMachine(max: 1)
        let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let booting = try #require(actions.boots.first)
        _ = machine.killRequested(runner: booting, reason: "by operator", now: at(0.2))
        _ = machine.shutdownRequested(now: at(1))
        #expect(machine.isDrained, "runners left: \(machine.runners.ids.sorted())")
    }
}

@Suite(.timeLimit(.minutes(1))) struct ScaleAndDrainTests {
    @Test func scaleRefusesBoundsAboveTheRunnerLimitOrMinAboveMax() {
        var machine = makeMachine(max: 2)
        let huge = caughtError { () throws(FLAMEError) in _ = try machine.scaleRequested(min: nil, max: 1_000_000_000_000, now: at(0)) }
        #expect(huge?.message.contains("max 1000000000000 is above the pool's runner limit (4096") == true, "\(String(describing: huge))")
        _ = try? machine.scaleRequested(min: 2, max: 2, now: at(0))
        let belowMin = caughtError { () throws(FLAMEError) in _ = try machine.scaleRequested(min: nil, max: 1, now: at(0)) }
        #expect(belowMin?.message.contains("min (2) must not exceed max (1)") == true, "\(String(describing: belowMin))")
        #expect(machine.limits.max == 2, "a refused scale changes nothing")
    }

    @Test func raisingMinBoots() throws {
        var machine = makeMachine(min: 0, max: 4)
        #expect(try machine.scaleRequested(min: 3, max: nil, now: at(0)).boots == ["p-1", "p-2", "p-3"])
    }

    @Test func loweringMaxDrainsIdleRunnersFirstAndNeverKillsWork() throws {
        var machine = makeMachine(min: 3, max: 3, maxConcurrency: 1)
        _ = machine.start(now: at(0))
        for id in ["p-1", "p-2", "p-3"] { boot(&machine, id, at: at(0)) }
        let busy = machine.checkoutRequested(deadline: at(30), now: at(0)).1.placements[0]
        let actions = try machine.scaleRequested(min: 0, max: 1, now: at(1))
        #expect(Set(actions.stops) == Set(["p-1", "p-2", "p-3"]).subtracting([busy.runner]))
        #expect(actions.kills.isEmpty)
        #expect(machine.runners[busy.runner]?.phase == .ready)
    }

    @Test func loweringMaxBelowBusyRunnersDrainsThemAfterTheirWork() throws {
        var machine = makeMachine(min: 2, max: 2, maxConcurrency: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        boot(&machine, "p-2", at: at(0))
        let one = machine.checkoutRequested(deadline: at(30), now: at(0)).1.placements[0]
        let two = machine.checkoutRequested(deadline: at(30), now: at(0)).1.placements[0]
        let scaled = try machine.scaleRequested(min: 0, max: 1, now: at(1))
        #expect(scaled.stops.isEmpty && scaled.kills.isEmpty)
        let draining = [one, two].first { machine.runners[$0.runner]?.phase == .draining }!
        #expect(machine.callFinished(draining.call, succeeded: true, now: at(2)).stops == [draining.runner])
    }

    @Test func invalidScaleIsRefused() {
        var machine = makeMachine()
        #expect(throws: FLAMEError.self) { try machine.scaleRequested(min: 3, max: 2, now: at(0)) }
        #expect(throws: FLAMEError.self) { try machine.scaleRequested(min: nil, max: 0, now: at(0)) }
        #expect(machine.limits.max == 2)
    }

    @Test func drainedRunnerFinishesItsWorkWhileNewCallersBootAnother() throws {
        var machine = makeMachine(min: 1, max: 2, maxConcurrency: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let call = machine.checkoutRequested(deadline: at(30), now: at(0)).1.placements[0].call
        let drained = machine.drainRequested(runner: "p-1", now: at(1))
        let drain = try #require(drained)
        #expect(drain.stops.isEmpty)  // still working
        #expect(drain.boots == ["p-2"])  // min 1 is kept by a fresh runner
        let next = machine.checkoutRequested(deadline: at(30), now: at(1)).1
        #expect(next.placements.isEmpty)  // the draining runner takes nothing new
        #expect(machine.callFinished(call, succeeded: true, now: at(2)).stops == ["p-1"])
        let unknown = machine.drainRequested(runner: "nope", now: at(2))
        #expect(unknown == nil)
    }

    @Test func stoppedRunnerThatDoesNotExitIsKilledAfterShutdownTimeout() {
        var machine = makeMachine(max: 1, idle: .seconds(1))
        let boots = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        let call = boot(&machine, boots[0], at: at(0)).placements[0].call
        _ = machine.callFinished(call, succeeded: true, now: at(0))
        #expect(machine.tick(now: at(1)).stops == ["p-1"])
        #expect(machine.tick(now: at(4)).kills == ["p-1"])
    }

    @Test func shutdownFailsWaitersAndStopsEveryRunner() {
        var machine = makeMachine(min: 1, max: 2, maxConcurrency: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        _ = machine.checkoutRequested(deadline: at(30), now: at(0))
        let (waiter, waiting) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let pending = waiting.boots[0]
        let actions = machine.shutdownRequested(now: at(1))
        #expect(actions.failedWaiters.map(\.0) == [waiter])
        #expect(actions.contains { if case .abortBoot(pending, let reason) = $0 { reason.code == .poolShutDown } else { false } })
        #expect(machine.runners["p-1"]?.phase == .draining)
    }
}

/// The FLAMEError `body` threw, if any.
func caughtError(_ body: () throws(FLAMEError) -> Void) -> FLAMEError? {
    do { try body() } catch { return error }
    return nil
}
