@testable import FLAME
import FLAMETestSupport
import Testing

// A manual clock and helpers for the state-machine tests.

/// A manual clock's instant: tests move time by hand, nothing sleeps.
struct TestInstant: InstantProtocol, Sendable {
    var offset: Duration
    static let zero = TestInstant(offset: .zero)
    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
}

typealias Machine = PoolStateMachine<TestInstant>
typealias Action = Machine.Action

func at(_ seconds: Double) -> TestInstant { TestInstant(offset: .milliseconds(Int64(seconds * 1000))) }

func makeMachine(
    min: Int = 0, max: Int = 2, maxConcurrency: Int = 1, singleUse: Bool = false,
    timeout: Duration = .seconds(30), idle: Duration = .seconds(30), minIdle: Duration? = nil,
    idleCheck: Bool = false
) -> Machine {
    var configuration = PoolConfiguration(
        name: "p", min: min, max: max, maxConcurrency: maxConcurrency, singleUse: singleUse,
        timeout: timeout, bootTimeout: .seconds(5), shutdownTimeout: .seconds(3),
        idleShutdownAfter: idle, minIdleShutdownAfter: minIdle)
    if idleCheck { configuration.idleShutdownCheck = AlwaysIdle() }
    return Machine(limits: .init(configuration))
}

struct AlwaysIdle: Job {
    func run() async throws -> Bool { true }
}

extension [Action] {
    var boots: [String] { compactMap { if case .bootRunner(let id) = $0 { id } else { nil } } }
    var placements: [(waiter: UInt64, call: UInt64, runner: String)] {
        compactMap { if case .placeWaiter(let w, let c, let r) = $0 { (w, c, r) } else { nil } }
    }
    var failedWaiters: [(UInt64, FLAMEError)] {
        compactMap { if case .failWaiter(let w, let e) = $0 { (w, e) } else { nil } }
    }
    var failedCalls: [(UInt64, FLAMEError)] {
        compactMap { if case .failCall(let c, _, let e) = $0 { (c, e) } else { nil } }
    }
    var stops: [String] { compactMap { if case .stopRunner(let id) = $0 { id } else { nil } } }
    var kills: [String] { compactMap { if case .killRunner(let id, _) = $0 { id } else { nil } } }
}

/// Boots a runner the machine asked for and returns the actions of its boot.
@discardableResult
func boot(_ machine: inout Machine, _ id: String, at now: TestInstant) -> [Action] {
    machine.runnerBooted(id, now: now)!
}
