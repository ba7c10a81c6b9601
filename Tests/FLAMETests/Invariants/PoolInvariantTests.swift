@testable import FLAME
import FLAMETestSupport
import Foundation
import Testing

/// The pool state machine under thousands of random event sequences (PoolWorld), its
/// invariants checked after every step. `FLAME_INVARIANT_SEQUENCES` sets how many (make
/// chaos runs a long profile); `FLAME_TEST_SEED` replays a run. A failing sequence is shrunk
/// and printed as `PoolWorld.replay([...])`; one that stops the process (an event a state
/// cannot take) is replayed with its seed and `FLAME_INVARIANT_TRACE=1`, printing each event.
@Suite(.timeLimit(.minutes(5))) struct PoolInvariantTests {
    static let sequences = ProcessInfo.processInfo.environment["FLAME_INVARIANT_SEQUENCES"].flatMap(Int.init) ?? 500
    static let steps = 120
    static let trace = ProcessInfo.processInfo.environment["FLAME_INVARIANT_TRACE"] == "1"

    static let shapes: [PoolWorld.Shape] = [
        .init(min: 0, max: 3, maxConcurrency: 2), .init(min: 1, max: 2, maxConcurrency: 1), .init(min: 2, max: 4, maxConcurrency: 3),
        .init(min: 1, max: 3, maxConcurrency: 1, singleUse: true), .init(min: 1, max: 3, maxConcurrency: 2, idleCheck: true),
    ]

    @Test(arguments: Self.shapes)
    func randomSequencesKeepThePoolsInvariants(shape: PoolWorld.Shape) async throws {
        // Seconds of CPU: on a thread of its own, not one of the cooperative pool's (one per
        // core), which the suite's other tests need to run their pools.
        let random = TestRandom.forTest()
        let failure = try await onDedicatedThread { try Self.run(shape, random: random) }
        if let failure { Issue.record(Comment(rawValue: failure)) }
    }

    /// Runs the sequences; returns the first failure's report, shrunk, or nil.
    static func run(_ shape: PoolWorld.Shape, random: TestRandom) throws -> String? {
        var random = random
        var stepsRun = 0
        for sequence in 0..<Self.sequences {
            var world = try PoolWorld(shape)
            do {
                for _ in 0..<Self.steps {
                    let event = world.randomEvent(using: &random)
                    // A state the machine cannot take stops the process (fatalError) before
                    // any shrinking: FLAME_INVARIANT_TRACE=1 with the run's seed prints the way there.
                    if Self.trace { print("sequence \(sequence): \(event)") }
                    try world.apply(event)
                    stepsRun += 1
                }
                try world.finish()
            } catch let violation as PoolWorld.Violation {
                let shrunk = Self.shrink(world.log, shape)
                return """
                    sequence \(sequence) (seed \(random.seedText)) broke an invariant: \(violation)
                    shrunk to \(shrunk.count) events:
                    try PoolWorld.replay([\(shrunk.map(\.description).joined(separator: ", "))], \(shape))
                    """
            }
        }
        print("pool invariants: \(Self.sequences) sequences, \(stepsRun) steps (\(shape)), seed \(random.seedText)")
        return nil
    }

    /// Drops events while the sequence still fails (the finish included).
    static func shrink(_ events: [PoolWorld.Event], _ shape: PoolWorld.Shape) -> [PoolWorld.Event] {
        func fails(_ events: [PoolWorld.Event]) -> Bool {
            (try? PoolWorld.replay(
                events, min: shape.min, max: shape.max, maxConcurrency: shape.maxConcurrency,
                singleUse: shape.singleUse, idleCheck: shape.idleCheck)) == nil
        }
        var events = events
        // The log ends with the finish's own events: replay adds them again.
        var index = events.count - 1
        while index >= 0 {
            var candidate = events
            candidate.remove(at: index)
            if fails(candidate) { events = candidate }
            index -= 1
        }
        return events
    }
}

/// The bugs the random sequences found, as the sequences printed them (shrunk) and as plain
/// expectations. Each failed before its fix.
@Suite(.timeLimit(.minutes(1))) struct PoolInvariantRegressionTests {
    /// Lowering max below the runners still booting left them all booting: runners and
    /// pending boots exceeded max (they were drained only once booted).
    @Test func loweringMaxCancelsTheBootsBeyondIt() throws {
        try PoolWorld.replay([.scale(min: 3, max: 4), .advance(milliseconds: 1000), .scale(min: 1, max: 2)], min: 2, max: 4, maxConcurrency: 3)
        var machine = makeMachine(max: 4)
        let booted = try machine.scaleRequested(min: 4, max: 4, now: at(0)).boots
        #expect(booted.count == 4)
        let lowered = try machine.scaleRequested(min: 0, max: 1, now: at(1))
        let cancelled = lowered.compactMap { if case .abortBoot(let id, _) = $0 { id } else { nil } }
        #expect(cancelled == ["p-4", "p-3", "p-2"], "the newest boots beyond max are cancelled")
        #expect(machine.pendingBoots == 1 && machine.runners.count == 1)
    }

    /// Killing a runner left the callers waiting for room without a boot until its exit
    /// was reported (a SIGKILLed runner's exit comes quickly; a cluster job's may not).
    @Test func killingARunnerBootsForTheCallersWaitingForRoom() throws {
        try PoolWorld.replay([
            .checkout(timeoutMilliseconds: 11629, child: false), .kill("p-1"), .bootSucceeds("p-2"), .scale(min: 1, max: 4), .drain("p-2"),
            .bootFails("p-3"), .checkout(timeoutMilliseconds: 7086, child: true), .checkout(timeoutMilliseconds: 5995, child: false),
            .advance(milliseconds: 1000), .bootSucceeds("p-4"), .scale(min: 0, max: 1), .checkout(timeoutMilliseconds: 9829, child: false),
            .kill("p-4"),
        ])
        var machine = makeMachine(max: 1, maxConcurrency: 1)
        let first = machine.checkoutRequested(deadline: at(30), now: at(0)).1.boots[0]
        boot(&machine, first, at: at(0))
        let (waiter, queued) = machine.checkoutRequested(deadline: at(30), now: at(0.1))
        #expect(queued.boots.isEmpty, "at max 1 the second caller waits")
        let kill = machine.killRequested(runner: first, reason: "by operator", now: at(0.2))
        let killed = try #require(kill)
        let replacement = try #require(killed.boots.first, "a boot for the waiting caller at once: \(killed)")
        let served = boot(&machine, replacement, at: at(0.3))
        #expect(served.placements.map(\.waiter) == [waiter])
    }
}
