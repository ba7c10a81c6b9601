/// What the grow and shrink callbacks are told.
public struct PoolGrowth: Sendable, Equatable {
    /// The pool's name.
    public var pool: String
    /// The runner this is about.
    public var runnerID: String
    /// Runners (booted plus booting) after the change.
    public var count: Int

    public init(pool: String, runnerID: String, count: Int) {
        self.pool = pool
        self.runnerID = runnerID
        self.count = count
    }
}
