/// How a ``Pool`` scales, places calls and retires runners. FLAME's options, FLAME's defaults.
///
/// Values are checked by ``validate()``, which ``Pool/init(_:backend:logger:)`` calls: a
/// configuration that cannot work (min > max, max 0, negative durations) is refused with a
/// ``FLAMEError/Code/invalidConfiguration`` error naming the field.
public struct PoolConfiguration: Sendable {
    /// The pool's name, shown by the admin tools and used in runner ids (`name-N`).
    public var name: String
    /// Runners booted when the pool starts and kept while idle. Defaults to 0.
    /// A pool created inside a runner always gets 0.
    public var min: Int
    /// The most runners (booted plus booting). Must be at least 1 and at least `min`.
    public var max: Int
    /// Calls one runner serves at once. Defaults to 100.
    public var maxConcurrency: Int
    /// Each runner serves a single call, then exits. Defaults to false.
    public var singleUse: Bool
    /// The default call timeout, covering the wait for a runner and the execution.
    /// Defaults to 30 seconds.
    public var timeout: Duration
    /// How long a runner may take from launch to its accepted hello. Defaults to 30 seconds.
    public var bootTimeout: Duration
    /// How long a runner gets to stop gracefully, and how long a job may ignore its
    /// cancellation, before the runner is killed. Defaults to 30 seconds.
    public var shutdownTimeout: Duration
    /// A runner with no work (no calls, no child services) for this long is shut down.
    /// Defaults to 30 seconds.
    public var idleShutdownAfter: Duration
    /// When set, an idle runner is only shut down if this job, run on it, returns true.
    public var idleShutdownCheck: (any Job<Bool>)?
    /// The idle shutdown delay for runners that keep the pool at `min`; nil (the default)
    /// means never.
    public var minIdleShutdownAfter: Duration?
    /// Called when the pool starts booting a runner, with the runner count it will reach.
    public var onGrowStart: (@Sendable (PoolGrowth) -> Void)?
    /// Called when a boot ends, with its result.
    public var onGrowEnd: (@Sendable (PoolGrowth, Result<Void, FLAMEError>) -> Void)?
    /// Called when a runner leaves the pool, with the runner count left.
    public var onShrink: (@Sendable (PoolGrowth) -> Void)?
    /// How often runners report CPU and memory. Defaults to 1 second.
    public var heartbeatInterval: Duration
    /// Lines of stdout/stderr kept per runner. Defaults to 1000.
    public var outputLinesPerRunner: Int
    /// How many of the pool's most recently exited runners keep their output readable
    /// (`flamectl logs`, flame-top). Defaults to 16.
    public var exitedRunnersKept = 16
    /// The most runners `min` and `max` may ask for, at start and in ``Pool/scale(min:max:)``:
    /// a typo in `flamectl scale --max` must not ask a cluster for a trillion runners.
    /// Defaults to ``defaultRunnerLimit``.
    public var runnerLimit: Int = PoolConfiguration.defaultRunnerLimit

    /// 4,096: a few thousand, what one parent is measured to carry (docs/SCALING.md).
    public static let defaultRunnerLimit = PoolBounds.defaultRunnerLimit

    /// Why `min` and `max` are out of bounds, or nil: the one rule for a pool's start and
    /// for every scale request, whoever makes it (the API, flamectl, flame-top).
    public static func boundsProblem(min: Int, max: Int, runnerLimit: Int) -> String? {
        PoolBounds.problem(min: min, max: max, runnerLimit: runnerLimit)
    }

    public init(
        name: String,
        min: Int = 0,
        max: Int = 1,
        maxConcurrency: Int = 100,
        singleUse: Bool = false,
        timeout: Duration = .seconds(30),
        bootTimeout: Duration = .seconds(30),
        shutdownTimeout: Duration = .seconds(30),
        idleShutdownAfter: Duration = .seconds(30),
        idleShutdownCheck: (any Job<Bool>)? = nil,
        minIdleShutdownAfter: Duration? = nil,
        onGrowStart: (@Sendable (PoolGrowth) -> Void)? = nil,
        onGrowEnd: (@Sendable (PoolGrowth, Result<Void, FLAMEError>) -> Void)? = nil,
        onShrink: (@Sendable (PoolGrowth) -> Void)? = nil,
        heartbeatInterval: Duration = .seconds(1),
        outputLinesPerRunner: Int = 1000
    ) {
        self.name = name
        self.min = min
        self.max = max
        self.maxConcurrency = maxConcurrency
        self.singleUse = singleUse
        self.timeout = timeout
        self.bootTimeout = bootTimeout
        self.shutdownTimeout = shutdownTimeout
        self.idleShutdownAfter = idleShutdownAfter
        self.idleShutdownCheck = idleShutdownCheck
        self.minIdleShutdownAfter = minIdleShutdownAfter
        self.onGrowStart = onGrowStart
        self.onGrowEnd = onGrowEnd
        self.onShrink = onShrink
        self.heartbeatInterval = heartbeatInterval
        self.outputLinesPerRunner = outputLinesPerRunner
    }

    /// Throws ``FLAMEError/Code/invalidConfiguration`` naming the first value out of range.
    public func validate() throws(FLAMEError) {
        func invalid(_ message: String) -> FLAMEError {
            FLAMEError(.invalidConfiguration, "pool \(name.isEmpty ? "(unnamed)" : name): \(message)")
        }
        if name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "/" }) {
            throw invalid("name must be non-empty, without spaces or '/'")
        }
        if runnerLimit < 1 { throw invalid("runnerLimit must be at least 1, got \(runnerLimit)") }
        if let problem = Self.boundsProblem(min: min, max: max, runnerLimit: runnerLimit) { throw invalid(problem) }
        if maxConcurrency < 1 { throw invalid("maxConcurrency must be at least 1, got \(maxConcurrency)") }
        if outputLinesPerRunner < 0 { throw invalid("outputLinesPerRunner must be 0 or more") }
        if exitedRunnersKept < 0 { throw invalid("exitedRunnersKept must be 0 or more") }
        let durations: [(String, Duration?)] = [
            ("timeout", timeout), ("bootTimeout", bootTimeout), ("shutdownTimeout", shutdownTimeout),
            ("idleShutdownAfter", idleShutdownAfter), ("minIdleShutdownAfter", minIdleShutdownAfter),
        ]
        for (field, value) in durations {
            if let value, value < .zero { throw invalid("\(field) must not be negative, got \(value)") }
        }
        if heartbeatInterval <= .zero { throw invalid("heartbeatInterval must be positive") }
    }
}

extension PoolStateMachine.Limits {
    /// The policy's part of a pool's configuration.
    init(_ configuration: PoolConfiguration) {
        self.init(
            name: configuration.name, min: configuration.min, max: configuration.max,
            maxConcurrency: configuration.maxConcurrency, singleUse: configuration.singleUse,
            bootTimeout: configuration.bootTimeout, shutdownTimeout: configuration.shutdownTimeout,
            runnerLimit: configuration.runnerLimit, idleShutdownAfter: configuration.idleShutdownAfter,
            minIdleShutdownAfter: configuration.minIdleShutdownAfter, hasIdleCheck: configuration.idleShutdownCheck != nil)
    }
}
