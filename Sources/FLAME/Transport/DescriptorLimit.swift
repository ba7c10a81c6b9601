import CFLAMEShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open descriptors, which a parent of thousands of runners outgrows.
///
/// Each TCP runner holds one descriptor in the parent (a Slurm runner four: its connection,
/// srun's two output pipes and srun's pidfd), and Linux's default soft limit is 1,024 while
/// the hard limit is usually far higher (524,288 under systemd). Starting a listener raises
/// the soft limit to the hard one, as Go's runtime does at start: nothing here uses
/// `select(2)`, whose descriptor sets the raise could overflow. As Go does too, processes
/// this one spawns get the original soft limit back (``restoreOriginal(in:)``): a runner's
/// job, srun (which would propagate it to the job on the node, where a lower hard limit
/// makes slurmstepd complain) or a helper program expects the system's default.
package enum DescriptorLimit {
    /// The soft limit before the first raise, when one happened.
    private static let original = Mutex<rlimit?>(nil)

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
            let before = limit
            limit.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                original.withLock { if $0 == nil { $0 = before } }
            }
        }
        return current.soft
    }

    /// Gives process `pid` (just spawned by this one) the soft limit this process started
    /// with, if it was raised. Limits survive `exec`; posix_spawn cannot set them in the
    /// child, so this runs right after the spawn returns, on the spawning thread. The child
    /// has exec'd by then and, on a loaded machine, may read its limit first: a shell's
    /// `ulimit -n` at once sometimes did in tests; srun, which reads it when it submits the
    /// job, milliseconds in, and a runner's jobs see the original.
    package static func restoreOriginal(in pid: Int32) {
        guard let limit = original.withLock({ $0 }) else { return }
        _ = flame_set_descriptor_soft_limit(pid, UInt64(limit.rlim_cur))
    }
}
