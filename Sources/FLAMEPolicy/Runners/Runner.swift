extension PoolStateMachine {
    /// Where a runner is in its life. The transitions, each made by one method of ``Runner``
    /// (anything else is a `fatalError` naming the phase):
    ///
    /// | From | Event | To |
    /// |---|---|---|
    /// | `booting` | hello accepted | `ready`; `draining` when the pool is over `max` or shutting down |
    /// | `booting` | boot failed, timed out, or aborted (kill, drain, scale down, shutdown) | removed |
    /// | `ready` | drain, scale down, a single-use placement, shutdown | `draining` |
    /// | `ready` | idle shutdown | `exiting(killAt:)` |
    /// | `draining` | its last call finished (or it had none) | `exiting(killAt:)` |
    /// | `ready`, `draining`, `exiting` | kill (operator, a job ignoring cancellation, `killAt` passed) | `exiting(killAt: nil)` |
    /// | `ready`, `draining`, `exiting` | process exited | removed |
    ///
    /// `booting` and `ready` runners count toward `max`; `draining` and `exiting` ones do not
    /// (they take no new calls), so a pool may briefly hold more than `max` processes.
    package enum Phase: Equatable, Sendable {
        case booting(deadline: Instant)
        case ready
        case draining
        /// Told to stop; killed at `killAt` (nil: already killed, waiting for its exit).
        case exiting(killAt: Instant?)
    }

    /// One runner as the pool's policy sees it: its phase and the work placed on it.
    package struct Runner: Sendable {
        package let id: RunnerID
        package private(set) var phase: Phase
        /// Calls and child services placed on this runner and not yet finished.
        package private(set) var inFlight = 0
        /// Of `inFlight`, the child services.
        package private(set) var children = 0
        /// Since when it has had nothing to do (ready runners only).
        package private(set) var idleSince: Instant?
        /// The idle check job running on it, when there is one.
        package private(set) var idleCheck: CallID?
        package private(set) var completed = 0
        package private(set) var failed = 0
        /// Set when the pool kills the runner; its calls fail with this.
        package private(set) var killReason: FLAMEError?
        /// While booting: what the backend last said it waits for ("job 42 is pending:
        /// Resources"); a boot that times out names it.
        package private(set) var bootStatus: String?

        package init(id: RunnerID, bootDeadline: Instant) {
            self.id = id
            self.phase = .booting(deadline: bootDeadline)
        }

        package var isIdle: Bool { inFlight == 0 }
        package var isBooting: Bool { if case .booting = phase { true } else { false } }
        /// Calls, not counting child services.
        package var callsInFlight: Int { inFlight - children }
        /// Ready or draining: calls may run on it (a pinned call may go to a draining runner).
        package var isServing: Bool { phase == .ready || phase == .draining }

        // MARK: Transitions

        /// `booting` → `ready`: its hello was accepted.
        mutating func helloAccepted(now: Instant) {
            guard case .booting = phase else { fatalError("runner \(id) said hello in phase \(phase)") }
            phase = .ready
            idleSince = now
            bootStatus = nil
        }

        /// `ready` → `draining` (a draining runner stays so): it takes no new calls.
        mutating func drain() {
            guard isServing else { fatalError("runner \(id) cannot drain in phase \(phase)") }
            phase = .draining
        }

        /// `ready` or `draining` → `exiting`: told to stop, killed at `killAt`.
        mutating func stop(killAt: Instant) {
            guard isServing else { fatalError("runner \(id) cannot stop in phase \(phase)") }
            phase = .exiting(killAt: killAt)
        }

        /// A process to kill: `exiting(killAt: nil)`. The first reason stays the one its calls
        /// fail with. A booting runner has no process: its boot is aborted instead.
        mutating func kill(reason: FLAMEError) {
            guard !isBooting else { fatalError("runner \(id) cannot be killed while booting; abort its boot") }
            phase = .exiting(killAt: nil)
            killReason = killReason ?? reason
        }

        /// While booting: what the boot waits for.
        mutating func bootProgressed(_ status: String) {
            guard isBooting else { fatalError("runner \(id) reported boot progress in phase \(phase)") }
            bootStatus = status
        }

        // MARK: Work

        /// A call or child service was placed on it.
        mutating func callPlaced(isChild: Bool) {
            guard isServing else { fatalError("a call was placed on runner \(id) in phase \(phase)") }
            inFlight += 1
            if isChild { children += 1 }
            idleSince = nil
        }

        /// A call or child service placed on it ended.
        mutating func callFinished(isChild: Bool, succeeded: Bool) {
            guard inFlight > 0, !isChild || children > 0, !isBooting else {
                fatalError("runner \(id) finished a call it did not have (phase \(phase), \(inFlight) in flight)")
            }
            inFlight -= 1
            if isChild { children -= 1 }
            if succeeded { completed += 1 } else { failed += 1 }
        }

        /// A ready runner with nothing to do starts (or restarts) its idle period.
        mutating func idlePeriodStarted(now: Instant) {
            guard phase == .ready, isIdle else { fatalError("runner \(id) cannot be idle in phase \(phase) with \(inFlight) in flight") }
            idleSince = now
        }

        /// The idle check job `call` runs on this ready, idle runner.
        mutating func idleCheckStarted(_ call: CallID) {
            guard phase == .ready, isIdle, idleCheck == nil else { fatalError("runner \(id) cannot run an idle check in phase \(phase)") }
            idleCheck = call
        }

        /// Its idle check job answered.
        mutating func idleCheckFinished(_ call: CallID) {
            guard idleCheck == call else { fatalError("runner \(id) finished idle check \(call), its check is \(idleCheck.map(String.init) ?? "none")") }
            idleCheck = nil
        }
    }
}
