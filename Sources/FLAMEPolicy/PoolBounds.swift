/// The one rule for a pool's `min` and `max`: at start (`PoolConfiguration.validate()`) and
/// for every scale request, whoever makes it (the API, flamectl, flame-top).
package enum PoolBounds {
    /// 4,096: a few thousand, what one parent is measured to carry (docs/SCALING.md).
    package static let defaultRunnerLimit = 4_096

    /// Why `min` and `max` are out of bounds, or nil.
    package static func problem(min: Int, max: Int, runnerLimit: Int) -> String? {
        if min < 0 { return "min must be 0 or more, got \(min)" }
        if max < 1 { return "max must be at least 1, got \(max)" }
        if min > max { return "min (\(min)) must not exceed max (\(max)); lower min with max" }
        if max > runnerLimit { return "max \(max) is above the pool's runner limit (\(runnerLimit), PoolConfiguration.runnerLimit)" }
        return nil
    }
}
