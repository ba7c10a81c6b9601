#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open descriptors, which a parent of thousands of runners outgrows.
///
/// Each TCP runner holds one descriptor in the parent (a Slurm runner four: its connection,
/// srun's two output pipes and srun's pidfd), and Linux's default soft limit is 1,024 while
/// the hard limit is usually far higher (524,288 under systemd). Starting a listener raises
/// the soft limit to the hard one, as Go's runtime does at start: nothing here uses
/// `select(2)`, whose descriptor sets the raise could overflow.
package enum DescriptorLimit {
    /// The soft and hard limits now.
    package static var current: (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to the hard limit; returns the soft limit after.
    @discardableResult
    package static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return current.soft
    }
}
