/// FLAME's pool policy as a sans-IO state machine: events in, actions out.
///
/// No clocks, sockets or tasks in here. Every event carries `now`; deadlines are data; the
/// owner (the `Pool` actor, or a unit test with a manual clock) performs the returned
/// ``Action``s, which carry everything needed to perform them, and calls ``tick(now:)`` at
/// ``nextTimer`` or later.
///
/// Each part has a small state machine of its own with its transitions written down and
/// enforced: a runner's ``Phase`` (Runners/), a waiter's life in the ``WaiterQueue``
/// (Waiters/), a placed call's ``CallPhase`` (Calls/) and the pool's ``Lifecycle``
/// (Lifecycle/). Scaling and the idle rule live in Scaling/, timers in Timers/. An event the
/// current state cannot take is either a tolerated race, commented where it is tolerated,
/// or a `fatalError` naming the state (not `preconditionFailure`, whose message `-O` builds
/// drop): the policy never drops an event silently.
///
/// The state can be read by the owner (for snapshots) and changed only by the machine's
/// events: it is `internal(set)` in this module, which holds only the policy and its
/// vocabulary (`FLAMEError`, `PoolGrowth`, `PoolBounds`).
package struct PoolStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    package typealias RunnerID = String
    package typealias CallID = UInt64
    package typealias WaiterID = UInt64

    /// FLAME's async boot debounce: after a failed boot, wait this long before retrying.
    package static var bootRetryDebounce: Duration { .seconds(1) }

    package internal(set) var limits: Limits
    package internal(set) var lifecycle = Lifecycle.running
    package internal(set) var runners = RunnerTable()
    package internal(set) var calls = PlacedCalls()
    package internal(set) var waiters = WaiterQueue()
    /// Set after a failed boot: no boot before this (FLAME's 1 s debounce).
    package internal(set) var bootRetryAt: Instant?
    package internal(set) var lastBootError: FLAMEError?
    /// The earliest moment `tick` may have something to do. May be early (then tick finds
    /// nothing), never late.
    package internal(set) var nextTimer: Instant?
    var nextRunnerNumber = 1
    var nextCallID: CallID = 1
    var nextWaiterID: WaiterID = 1

    // Pool counters for snapshots.
    package internal(set) var callsCompleted = 0
    package internal(set) var callsFailed = 0
    package internal(set) var callsTimedOut = 0

    package init(limits: Limits) {
        self.limits = limits
    }

    // MARK: - Queries

    /// Callers waiting for a runner.
    package var queueDepth: Int { waiters.count }
    package var pendingBoots: Int { runners.bootingCount }
    /// Runners that count toward `max`: booting or ready (not draining or exiting).
    package var activeRunnerCount: Int { runners.bootingCount + runners.readyCount }
    package var isDrained: Bool { runners.isEmpty }

    mutating func allocateCallID() -> CallID {
        defer { nextCallID += 1 }
        return nextCallID
    }
}
