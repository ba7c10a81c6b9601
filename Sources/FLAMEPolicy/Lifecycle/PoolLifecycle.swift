extension PoolStateMachine {
    /// The pool's own life:
    ///
    /// | From | Event | To |
    /// |---|---|---|
    /// | `running` | shutdown requested: waiters fail, boots are aborted, runners drain | `shuttingDown` |
    /// | `shuttingDown` | the last runner left the table (at once when there was none) | `shutDown` (action `shutdownCompleted`) |
    /// | `shuttingDown`, `shutDown` | shutdown requested again | unchanged (the first one's completion answers every caller of `shutdown`) |
    /// | `shuttingDown`, `shutDown` | scale requested | unchanged, refused with `poolShutDown` |
    ///
    /// Outside `running` no boot is requested, every checkout fails with `poolShutDown` and
    /// a scale request is refused.
    package enum Lifecycle: Equatable, Sendable {
        case running, shuttingDown, shutDown

        /// `running` → `shuttingDown`; false (nothing changes) when already past it.
        mutating func shutdownRequested() -> Bool {
            guard self == .running else { return false }
            self = .shuttingDown
            return true
        }

        /// `shuttingDown` → `shutDown`: the last runner has left.
        mutating func drained() {
            guard self == .shuttingDown else { fatalError("the pool cannot finish its shutdown while \(self)") }
            self = .shutDown
        }
    }

    /// The pool shuts down: waiters fail, runners drain and exit; booting ones are aborted.
    /// A second request is a tolerated repeat (an app's and a signal handler's shutdown race)
    /// and changes nothing.
    package mutating func shutdownRequested(now: Instant) -> [Action] {
        guard lifecycle.shutdownRequested() else { return [] }
        var actions: [Action] = []
        failAllWaiters(FLAMEError(.poolShutDown, "pool \(limits.name) is shutting down"), into: &actions)
        bootRetryAt = nil
        for id in runners.order {
            guard let runner = runners[id] else { continue }
            switch runner.phase {
            case .booting:
                abortBoot(id, reason: FLAMEError(.poolShutDown, "pool \(limits.name) shut down during boot"), into: &actions)
            case .ready, .draining:
                drainRunner(id, now: now, into: &actions)
            case .exiting:
                break  // already on its way out
            }
        }
        completeShutdownIfDrained(into: &actions)
        return actions
    }

    /// `shuttingDown` → `shutDown` once no runner is left.
    mutating func completeShutdownIfDrained(into actions: inout [Action]) {
        guard lifecycle == .shuttingDown, runners.isEmpty else { return }
        lifecycle.drained()
        actions.append(.shutdownCompleted)
    }
}
