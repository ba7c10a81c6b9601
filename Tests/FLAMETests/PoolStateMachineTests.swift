@testable import FLAME
import FLAMETestSupport
import Testing

@Suite(.timeLimit(.minutes(1))) struct PlacementTests {
    @Test func firstCallerBootsARunnerAndWaitsForIt() {
        var machine = makeMachine()
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        #expect(actions.boots == ["p-1"])
        #expect(actions.placements.isEmpty)
        #expect(machine.queueDepth == 1)
        let booted = boot(&machine, "p-1", at: at(0.1))
        #expect(booted.placements.map(\.waiter) == [waiter])
        #expect(booted.placements.map(\.runner) == ["p-1"])
        #expect(machine.queueDepth == 0)
    }

    @Test func checkoutPicksTheLeastLoadedRunnerUnderMaxConcurrency() {
        var machine = makeMachine(min: 2, max: 2, maxConcurrency: 3)
        let startActions = machine.start(now: at(0))
        #expect(startActions.boots == ["p-1", "p-2"])
        boot(&machine, "p-1", at: at(0))
        boot(&machine, "p-2", at: at(0))
        var runners: [String] = []
        for _ in 0..<6 {
            let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(1))
            runners += actions.placements.map(\.runner)
        }
        // Alternates by load: 1,2,1,2,1,2 — never more than maxConcurrency on one runner.
        #expect(runners == ["p-1", "p-2", "p-1", "p-2", "p-1", "p-2"])
        // The 7th caller queues: both runners are at maxConcurrency and max is reached.
        let (_, queued) = machine.checkoutRequested(deadline: at(30), now: at(1))
        #expect(queued.placements.isEmpty && queued.boots.isEmpty)
        #expect(machine.queueDepth == 1)
    }

    @Test func freedCapacityGoesToTheOldestLiveWaiterAndExpiredWaitersAreNeverServed() {
        var machine = makeMachine(min: 1, max: 1, maxConcurrency: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let (_, first) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let busyCall = first.placements[0].call
        let (shortWaiter, _) = machine.checkoutRequested(deadline: at(2), now: at(0))
        let (cancelledWaiter, _) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let (patientWaiter, _) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let wasWaiting = machine.waiterCancelled(cancelledWaiter)
        #expect(wasWaiting)
        // At t=3 the short waiter is past its deadline; the cancelled one is gone.
        let actions = machine.callFinished(busyCall, succeeded: true, now: at(3))
        #expect(actions.failedWaiters.map(\.0) == [shortWaiter])
        #expect(actions.failedWaiters.first?.1.code == .timeout)
        #expect(actions.placements.map(\.waiter) == [patientWaiter])
    }

    @Test func waitersTimeOutOnTickWithTheLastBootFailureInTheMessage() {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(2), now: at(0))
        _ = machine.runnerBootFailed(actions.boots[0], error: FLAMEError(.bootFailed, "no such binary"), now: at(0.5))
        #expect(machine.nextTimer != nil && machine.nextTimer! <= at(2))
        let expired = machine.tick(now: at(2))
        #expect(expired.failedWaiters.map(\.0) == [waiter])
        #expect(expired.failedWaiters[0].1.message.contains("no such binary"))
        #expect(machine.queueDepth == 0)
    }

    @Test func concurrentCallersOnPendingRunnersBootOnlyWhatDemandNeeds() {
        // maxConcurrency 10: ten waiting callers are covered by one pending boot.
        var machine = makeMachine(max: 5, maxConcurrency: 10)
        var boots: [String] = []
        for _ in 0..<10 {
            boots += machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        }
        #expect(boots == ["p-1"])
        // The 11th waiter exceeds what one pending runner can take: FLAME boots one more
        // when pending × maxConcurrency ≤ waiting.
        boots += machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        #expect(boots == ["p-1", "p-2"])
        #expect(machine.pendingBoots == 2)
        let served = boot(&machine, "p-1", at: at(1))
        #expect(served.placements.count == 10)
        #expect(machine.queueDepth == 1)
    }

    @Test func callersNeverBootBeyondMax() {
        var machine = makeMachine(max: 2, maxConcurrency: 1)
        var boots: [String] = []
        for _ in 0..<20 { boots += machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots }
        #expect(boots.count == 2)
        #expect(machine.queueDepth == 20)
    }

    @Test func shuttingDownPoolRefusesCallers() {
        var machine = makeMachine()
        _ = machine.shutdownRequested(now: at(0))
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        #expect(actions.failedWaiters.map(\.0) == [waiter])
        #expect(actions.failedWaiters.first?.1.code == .poolShutDown)
    }
}

@Suite(.timeLimit(.minutes(1))) struct BootTests {
    @Test func failedBootIsRetriedAfterTheDebounceWhileDemandRemains() {
        var machine = makeMachine(max: 1)
        let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let failed = machine.runnerBootFailed(actions.boots[0], error: FLAMEError(.bootFailed, "flaky"), now: at(1))
        #expect(failed.contains { if case .growEnded(_, let error) = $0 { error != nil } else { false } })
        #expect(failed.boots.isEmpty)
        #expect(machine.tick(now: at(1.5)).boots.isEmpty)  // still debouncing
        let retried = machine.tick(now: at(2))
        #expect(retried.boots == ["p-2"])
        #expect(boot(&machine, "p-2", at: at(2.1)).placements.count == 1)
    }

    @Test func failedBootWithoutDemandIsNotRetried() {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        _ = machine.waiterCancelled(waiter)
        _ = machine.runnerBootFailed(actions.boots[0], error: FLAMEError(.bootFailed, "x"), now: at(1))
        #expect(machine.tick(now: at(5)).boots.isEmpty)
    }

    @Test func bootExceedingBootTimeoutIsAbortedAndCountsAsAFailure() {
        var machine = makeMachine(max: 1)
        let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let id = actions.boots[0]
        let timedOut = machine.tick(now: at(5))
        #expect(timedOut.contains { if case .abortBoot(id, let reason) = $0 { reason.message.contains("bootTimeout") } else { false } })
        #expect(timedOut.contains { if case .growEnded(_, let error?) = $0 { error.message.contains("bootTimeout") } else { false } })
        // A late hello from the aborted runner is refused.
        let late = machine.runnerBooted(id, now: at(5.5))
        #expect(late == nil)
        #expect(machine.tick(now: at(6)).boots == ["p-2"])
    }

    @Test func bootTimeoutNamesWhatTheBootLastWaitedFor() {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(5), now: at(0))
        let id = actions.boots[0]
        machine.bootProgressed(id, status: "Slurm job 7 is pending (Priority)")
        machine.bootProgressed(id, status: "Slurm job 7 is pending (Resources)")
        let timedOut = machine.tick(now: at(5))
        let reason = "did not boot within bootTimeout (5.0 seconds): Slurm job 7 is pending (Resources)"
        #expect(timedOut.contains { if case .growEnded(_, let error?) = $0 { error.message.hasSuffix(reason) } else { false } })
        #expect(timedOut.failedWaiters.map(\.0) == [waiter])
        #expect(timedOut.failedWaiters.first?.1.message.contains("pending (Resources)") == true)
        // A report that races the end of its boot changes nothing.
        machine.bootProgressed(id, status: "late")
        #expect(machine.runners[id] == nil)
    }

    @Test func waiterExpiringInTheSameTickAsABootTimeoutHearsTheBootCause() {
        // A late timer (a loaded machine) can find both deadlines past at once.
        var machine = makeMachine(max: 1)
        let (waiter, _) = machine.checkoutRequested(deadline: at(2), now: at(0))
        let actions = machine.tick(now: at(6))
        #expect(actions.failedWaiters.map(\.0) == [waiter])
        #expect(actions.failedWaiters.first?.1.message.contains("bootTimeout") == true)
    }

    @Test func buildMismatchFailsWaitersAtOnce() {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let failed = machine.runnerBootFailed(actions.boots[0], error: FLAMEError(.buildMismatch, "other build"), now: at(0.1))
        #expect(failed.failedWaiters.map(\.0) == [waiter])
        #expect(failed.failedWaiters.first?.1.code == .buildMismatch)
    }

    @Test func startBootsMinRunners() {
        var machine = makeMachine(min: 2, max: 4)
        #expect(machine.start(now: at(0)).boots == ["p-1", "p-2"])
    }
}

@Suite(.timeLimit(.minutes(1))) struct CallTimeoutTests {
    @Test func callPastItsTimeoutFailsIsCancelledAndItsRunnerKilledIfItIgnoresCancellation() {
        var machine = makeMachine(min: 1, max: 1, maxConcurrency: 2)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let stuck = machine.checkoutRequested(deadline: at(10), now: at(0)).1.placements[0].call
        let other = machine.checkoutRequested(deadline: at(60), now: at(5)).1.placements[0].call
        let expired = machine.tick(now: at(10))
        #expect(expired.failedCalls.map(\.0) == [stuck])
        #expect(expired.failedCalls[0].1.code == .timeout)
        #expect(expired.contains(.cancelCall(stuck, "p-1")))
        #expect(machine.callsTimedOut == 1)
        // shutdownTimeout (3 s) later the job still runs: the runner is killed and taken out
        // of service; its other call fails when the exit is observed, with the kill reason.
        let killed = machine.tick(now: at(13))
        #expect(killed.kills == ["p-1"])
        #expect(machine.checkoutRequested(deadline: at(60), now: at(13)).1.placements.isEmpty)
        let exited = machine.runnerExited("p-1", reason: FLAMEError(.runnerExited, "signal 9"), now: at(13.1))
        #expect(exited.failedCalls.map(\.0) == [other])
        #expect(exited.failedCalls[0].1.code == .runnerKilled)
        #expect(exited.failedCalls[0].1.message.contains("ignored cancellation"))
    }

    @Test func callThatHonoursCancellationFreesItsSlotWithoutAKill() {
        var machine = makeMachine(min: 1, max: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let call = machine.checkoutRequested(deadline: at(10), now: at(0)).1.placements[0].call
        _ = machine.tick(now: at(10))
        let finished = machine.callFinished(call, succeeded: false, now: at(10.2))
        #expect(finished.kills.isEmpty)
        #expect(machine.tick(now: at(20)).kills.isEmpty)
        #expect(machine.runners["p-1"]?.inFlight == 0)
    }

    @Test func abandonedCallIsCancelledOnTheRunner() {
        var machine = makeMachine(min: 1, max: 1)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let call = machine.checkoutRequested(deadline: at(10), now: at(0)).1.placements[0].call
        let abandoned = machine.callAbandoned(call, now: at(1))
        #expect(abandoned == [.cancelCall(call, "p-1")])
        #expect(machine.tick(now: at(4)).kills == ["p-1"])
    }
}

@Suite(.timeLimit(.minutes(1))) struct RunnerExitTests {
    @Test func exitFailsInFlightCallsAtOnceAndReplacesOnlyForDemand() {
        var machine = makeMachine(max: 2, maxConcurrency: 1)
        let first = machine.checkoutRequested(deadline: at(30), now: at(0)).1
        let placed = boot(&machine, first.boots[0], at: at(0)).placements[0]
        let exited = machine.runnerExited("p-1", reason: FLAMEError(.runnerExited, "exited with status 3"), now: at(1))
        #expect(exited.failedCalls.map(\.0) == [placed.call])
        #expect(exited.failedCalls[0].1.message == "exited with status 3")
        #expect(exited.boots.isEmpty)  // nobody waits: no replacement
        #expect(exited.contains { if case .shrank = $0 { true } else { false } })
        // With a waiter, the exit brings a replacement.
        var busy = makeMachine(max: 1, maxConcurrency: 1)
        let boots = busy.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        boot(&busy, boots[0], at: at(0))
        _ = busy.checkoutRequested(deadline: at(30), now: at(0))
        #expect(busy.runnerExited("p-1", reason: FLAMEError(.runnerExited, "x"), now: at(1)).boots == ["p-2"])
    }

    @Test func runnerBelowMinIsReplaced() {
        var machine = makeMachine(min: 1, max: 2)
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        #expect(machine.runnerExited("p-1", reason: FLAMEError(.runnerExited, "x"), now: at(1)).boots == ["p-2"])
    }
}

@Suite(.timeLimit(.minutes(1))) struct CallOwnershipTests {
    /// A runner reporting the end of a call placed on another runner changes nothing.
    @Test func aCallEndsOnlyWhenItsOwnRunnerSaysSo() {
        var machine = makeMachine(max: 2)
        let boots = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        let call = boot(&machine, boots[0], at: at(0)).placements[0].call
        #expect(machine.callFinished(call, succeeded: true, on: "p-2", now: at(1)).isEmpty)
        #expect(machine.runners["p-1"]?.inFlight == 1)
        _ = machine.callFinished(call, succeeded: true, on: "p-1", now: at(1))
        #expect(machine.runners["p-1"]?.inFlight == 0)
    }
}

@Suite(.timeLimit(.minutes(1))) struct IdleShutdownTests {
    /// FLAME boots its `min` runners without an idle deadline: after a burst, the burst's
    /// runners idle out and the longest-up runners stay, with their warm state.
    @Test func idleShutdownKeepsTheLongestUpRunnersAtMin() throws {
        var machine = makeMachine(min: 1, max: 3, maxConcurrency: 1)
        let first = try #require(machine.start(now: at(0)).boots.first)
        boot(&machine, first, at: at(0))
        var calls: [(UInt64, String)] = []
        for _ in 0..<3 {
            let (_, actions) = machine.checkoutRequested(deadline: at(60), now: at(1))
            for id in actions.boots { calls += boot(&machine, id, at: at(1)).placements.map { ($0.call, $0.runner) } }
            calls += actions.placements.map { ($0.call, $0.runner) }
        }
        #expect(machine.runners.count == 3)
        for (call, runner) in calls { _ = machine.callFinished(call, succeeded: true, on: runner, now: at(2)) }
        let idled = machine.tick(now: at(2 + 30))
        #expect(Set(idled.stops) == Set(machine.runners.order.filter { $0 != first }), "the burst's runners go, \(first) stays: \(idled.stops)")
        #expect(machine.runners[first]?.phase == .ready)
    }

    @Test func idleRunnerAboveMinIsStoppedAfterIdleShutdownAfter() {
        var machine = makeMachine(max: 2, idle: .seconds(10))
        let boots = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        let call = boot(&machine, boots[0], at: at(0)).placements[0].call
        _ = machine.callFinished(call, succeeded: true, now: at(1))
        #expect(machine.tick(now: at(10.9)).stops.isEmpty)
        #expect(machine.tick(now: at(11)).stops == ["p-1"])
    }

    @Test func minRunnersStayUnlessMinIdleShutdownAfterIsSet() {
        var keep = makeMachine(min: 1, max: 2, idle: .seconds(10))
        _ = keep.start(now: at(0))
        boot(&keep, "p-1", at: at(0))
        #expect(keep.tick(now: at(1000)).stops.isEmpty)

        var shrink = makeMachine(min: 1, max: 2, idle: .seconds(10), minIdle: .seconds(60))
        _ = shrink.start(now: at(0))
        boot(&shrink, "p-1", at: at(0))
        #expect(shrink.tick(now: at(59)).stops.isEmpty)
        #expect(shrink.tick(now: at(60)).stops == ["p-1"])
    }

    @Test func onlyTheRunnersAboveMinAreStoppedTogether() {
        var machine = makeMachine(min: 1, max: 3, maxConcurrency: 1, idle: .seconds(10))
        _ = machine.start(now: at(0))
        boot(&machine, "p-1", at: at(0))
        let a = machine.checkoutRequested(deadline: at(30), now: at(0)).1.placements[0].call
        let b = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots[0]
        let c = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots[0]
        let callB = boot(&machine, b, at: at(0)).placements[0].call
        let callC = boot(&machine, c, at: at(0)).placements[0].call
        for call in [a, callB, callC] { _ = machine.callFinished(call, succeeded: true, now: at(1)) }
        #expect(machine.tick(now: at(11)).stops.count == 2)
    }

    @Test func idleCheckMustAlsoSayIdle() {
        var machine = makeMachine(max: 1, idle: .seconds(10), idleCheck: true)
        let boots = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        let call = boot(&machine, boots[0], at: at(0)).placements[0].call
        _ = machine.callFinished(call, succeeded: true, now: at(0))
        let check = machine.tick(now: at(10))
        guard case .runIdleCheck(let runner, let checkCall)? = check.first(where: { if case .runIdleCheck = $0 { true } else { false } }) else {
            Issue.record("expected an idle check, got \(check)")
            return
        }
        #expect(check.stops.isEmpty)
        // "Not idle": the runner stays and a new idle period starts.
        #expect(machine.idleCheckFinished(runner, call: checkCall, idle: false, now: at(10.1)).stops.isEmpty)
        let second = machine.tick(now: at(20.1))
        guard case .runIdleCheck(_, let secondCall)? = second.first else {
            Issue.record("expected a second idle check, got \(second)")
            return
        }
        #expect(machine.idleCheckFinished(runner, call: secondCall, idle: true, now: at(20.2)).stops == [runner])
    }

    @Test func singleUseRunnerStopsAfterOneCall() {
        var machine = makeMachine(max: 2, maxConcurrency: 5, singleUse: true)
        let boots = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots
        let call = boot(&machine, boots[0], at: at(0)).placements[0].call
        // A second caller does not share the single-use runner.
        let second = machine.checkoutRequested(deadline: at(30), now: at(0)).1
        #expect(second.placements.isEmpty && second.boots == ["p-2"])
        #expect(machine.callFinished(call, succeeded: true, now: at(1)).stops == ["p-1"])
    }

    @Test func childServiceKeepsItsRunnerFromIdling() {
        var machine = makeMachine(max: 1, idle: .seconds(10))
        let boots = machine.checkoutRequested(deadline: at(30), isChild: true, now: at(0)).1.boots
        let child = boot(&machine, boots[0], at: at(0)).placements[0].call
        machine.childStarted(child)
        // One tick past both the call deadline (30) and the idle delay (10): a child has no
        // deadline, and a runner with a child is not idle.
        let later = machine.tick(now: at(100))
        #expect(later.stops.isEmpty)
        #expect(later.failedCalls.isEmpty)
        _ = machine.callFinished(child, succeeded: true, now: at(100))
        #expect(machine.tick(now: at(110)).stops == ["p-1"])
    }
}
