extension PoolStateMachine {
    /// Effects for the owner to perform, in order. Each carries what performing it needs:
    /// the owner never reads the machine's state to complete one.
    package enum Action: Equatable, Sendable {
        /// Start booting this runner (the id is already counted as a pending boot).
        case bootRunner(RunnerID)
        /// Stop the launch (the boot took longer than `bootTimeout`, was killed, drained or
        /// scaled away, or the pool shuts down); `reason` is the boot's failure, as
        /// `growEnded` reports it. A report of that boot's end that comes later is ignored.
        case abortBoot(RunnerID, reason: FLAMEError)
        /// Resume this waiter: it may now send `call` to `runner`.
        case placeWaiter(WaiterID, CallID, RunnerID)
        /// Resume this waiter with an error; it was never placed.
        case failWaiter(WaiterID, FLAMEError)
        /// Resume this call's caller with an error (its runner, named, may still run it).
        case failCall(CallID, on: RunnerID, FLAMEError)
        /// Ask the runner to cancel this call.
        case cancelCall(CallID, RunnerID)
        /// Shut this runner down gracefully (finish, stop children, exit).
        case stopRunner(RunnerID)
        /// SIGKILL this runner, for `reason` (its calls fail with it).
        case killRunner(RunnerID, reason: FLAMEError)
        /// Run the configured idle check job on this runner as `call`.
        case runIdleCheck(RunnerID, CallID)
        case growStarted(PoolGrowth)
        case growEnded(PoolGrowth, FLAMEError?)
        case shrank(PoolGrowth)
        /// The pool has shut down and its last runner is gone: `shutdown()` may return.
        case shutdownCompleted
    }
}
