extension PoolStateMachine {
    /// The pool's configuration as far as the policy needs it.
    package struct Limits: Sendable {
        package var name: String
        package var min: Int
        package var max: Int
        package var maxConcurrency: Int
        package var singleUse: Bool
        package var bootTimeout: Duration
        package var shutdownTimeout: Duration
        /// The ceiling on `min` and `max` (`PoolConfiguration.runnerLimit`).
        package var runnerLimit: Int
        package var idleShutdownAfter: Duration
        package var minIdleShutdownAfter: Duration?
        package var hasIdleCheck: Bool

        package init(
            name: String, min: Int, max: Int, maxConcurrency: Int, singleUse: Bool,
            bootTimeout: Duration, shutdownTimeout: Duration, runnerLimit: Int = PoolBounds.defaultRunnerLimit,
            idleShutdownAfter: Duration, minIdleShutdownAfter: Duration?, hasIdleCheck: Bool
        ) {
            self.name = name
            self.min = min
            self.max = max
            self.maxConcurrency = maxConcurrency
            self.singleUse = singleUse
            self.bootTimeout = bootTimeout
            self.shutdownTimeout = shutdownTimeout
            self.runnerLimit = runnerLimit
            self.idleShutdownAfter = idleShutdownAfter
            self.minIdleShutdownAfter = minIdleShutdownAfter
            self.hasIdleCheck = hasIdleCheck
        }
    }
}
