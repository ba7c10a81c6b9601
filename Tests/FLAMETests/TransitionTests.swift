@testable import FLAME
import FLAMETestSupport
import Testing

// The transitions the policy's parts enforce: the ones operators reach that used to be
// silently ignored, the lifecycle's end, and events a state cannot take stopping the process
// with a message naming the state (exit tests: each runs in a child process).

@Suite(.timeLimit(.minutes(1))) struct TransitionTests {
    /// `flamectl drain POOL-N` on a booting row did nothing: the boot went on and the runner
    /// served as if never drained.
    @Test func drainingABootingRunnerAbortsItsBootAndAnotherServesTheCaller() throws {
        var machine = makeMachine(max: 1)
        let (waiter, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let booting = try #require(actions.boots.first)
        let drain = machine.drainRequested(runner: booting, now: at(0.1))
        let drained = try #require(drain)
        #expect(drained.contains { if case .abortBoot(booting, _) = $0 { true } else { false } }, "\(drained)")
        #expect(machine.runners[booting] == nil)
        let replacement = try #require(drained.boots.first, "a boot for the waiting caller: \(drained)")
        #expect(boot(&machine, replacement, at: at(0.5)).placements.map(\.waiter) == [waiter])
    }

    @Test func drainingAnExitingRunnerLeavesItAsItIs() throws {
        var machine = makeMachine(max: 1)
        let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
        let id = try #require(actions.boots.first)
        let placed = boot(&machine, id, at: at(0.1)).placements
        _ = machine.killRequested(runner: id, reason: "test", now: at(0.2))
        let drain = machine.drainRequested(runner: id, now: at(0.3))
        #expect(drain == [])
        #expect(machine.runners[id]?.phase == .exiting(killAt: nil))
        #expect(machine.calls[placed[0].call] != nil, "its call ends with its exit")
    }

    @Test func shutdownCompletesOnceWhenTheLastRunnerLeaves() throws {
        var machine = makeMachine(min: 1, max: 2)
        let id = try #require(machine.start(now: at(0)).boots.first)
        boot(&machine, id, at: at(0.1))
        let first = machine.shutdownRequested(now: at(1))
        #expect(first.stops == [id])
        #expect(!first.contains(.shutdownCompleted), "a runner is still running")
        let again = machine.shutdownRequested(now: at(1.5))
        #expect(again == [], "a second request changes nothing")
        let exited = machine.runnerExited(id, reason: FLAMEError(.runnerExited, "stopped"), now: at(2))
        #expect(exited.last == .shutdownCompleted)
        #expect(machine.lifecycle == .shutDown)
    }

    @Test func scalingAPoolThatShutsDownIsRefused() throws {
        var machine = makeMachine(min: 1, max: 2)
        let id = try #require(machine.start(now: at(0)).boots.first)
        boot(&machine, id, at: at(0.1))
        _ = machine.shutdownRequested(now: at(1))
        #expect(throws: FLAMEError.self) { _ = try machine.scaleRequested(min: 2, max: 2, now: at(1.5)) }
        #expect(machine.limits.min == 1 && machine.limits.max == 2)
    }

    @Test func shutdownOfAnEmptyPoolCompletesAtOnce() {
        var machine = makeMachine()
        let shutdown = machine.shutdownRequested(now: at(0))
        #expect(shutdown == [.shutdownCompleted])
        let (waiter, refused) = machine.checkoutRequested(deadline: at(30), now: at(1))
        #expect(refused.failedWaiters.map(\.0) == [waiter])
        #expect(refused.failedWaiters.first?.1.code == .poolShutDown)
    }
}

/// Each case runs in a child process that must stop with the state's name on stderr (so a
/// trap anywhere else in the closure does not pass).
@Suite(.timeLimit(.minutes(2))) struct TransitionPreconditionTests {
    @Test func aSecondHelloFromOneRunnerStopsTheProcessNamingItsPhase() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var machine = makeMachine(min: 1)
            let id = machine.start(now: at(0)).boots[0]
            _ = machine.runnerBooted(id, now: at(1))
            _ = machine.runnerBooted(id, now: at(2))
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("runner p-1 booted again in phase ready"), "\(stderr)")
    }

    @Test func anExitReportedForABootingRunnerStopsTheProcessNamingIt() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var machine = makeMachine(min: 1)
            let id = machine.start(now: at(0)).boots[0]
            _ = machine.runnerExited(id, reason: FLAMEError(.runnerExited, "test"), now: at(1))
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("runner p-1 exited while booting"), "\(stderr)")
    }

    @Test func anIdleCheckAnswerForAnotherCheckStopsTheProcessNamingBoth() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var machine = makeMachine(min: 0, idle: .seconds(1), idleCheck: true)
            let (_, actions) = machine.checkoutRequested(deadline: at(30), now: at(0))
            let id = actions.boots[0]
            let placed = machine.runnerBooted(id, now: at(0.1))!.placements[0]
            _ = machine.callFinished(placed.call, succeeded: true, now: at(0.2))
            _ = machine.tick(now: at(5))
            _ = machine.idleCheckFinished(id, call: 999, idle: true, now: at(5))
        }
        let stderr = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        // The check the tick started is call 2 (the placed call was 1).
        #expect(stderr.contains("runner p-1 finished idle check 999, its check is 2"), "\(stderr)")
    }
}
