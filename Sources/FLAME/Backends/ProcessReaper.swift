import CFLAMEShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reaps every runner process of the parent from one thread, through pidfds in one epoll
/// set, so no exit is missed and no zombie is left, whatever the number of runners.
///
/// The reaper does not call `waitpid` itself: each watched process gives it a `tryReap` that
/// does, under the process's own lock, so a `kill` (which takes that lock) never signals a
/// pid that was reaped and may already belong to someone else. Without pidfds (kernels
/// before 5.3) it polls the watched processes every 100 ms.
final class ProcessReaper: Sendable {
    static let shared = ProcessReaper()

    private struct Watch: Sendable {
        var pidfd: Int32
        /// Reaps the process if it has exited; true when it did.
        var tryReap: @Sendable () -> Bool
    }
    private let epoll: Int32
    /// By pidfd; processes without one under negative keys (polled).
    private let watches = Mutex<[Int32: Watch]>([:])
    private let nextPolledKey = Mutex<Int32>(-1)

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: \(errno)")
        startThread { [self] in
            _ = flame_set_thread_name("flame-reaper")
            run()
        }
    }

    /// Watches `pid`; `tryReap` runs on the reaper thread whenever the process may have exited.
    func watch(pid: Int32, tryReap: @escaping @Sendable () -> Bool) {
        let pidfd = flame_pidfd_open(pid)
        guard pidfd >= 0 else {
            poll(tryReap)
            return
        }
        watches.withLock { $0[pidfd] = Watch(pidfd: pidfd, tryReap: tryReap) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = pidfd
        if epoll_ctl(epoll, EPOLL_CTL_ADD, pidfd, &event) != 0 {
            // Cannot happen for a fresh pidfd; poll it rather than lose the exit.
            watches.withLock { _ = $0.removeValue(forKey: pidfd) }
            close(pidfd)
            poll(tryReap)
        }
    }

    /// Watches a process without a pidfd: polled, under a key no descriptor can take.
    private func poll(_ tryReap: @escaping @Sendable () -> Bool) {
        let key = nextPolledKey.withLock { key in
            defer { key -= 1 }
            return key
        }
        watches.withLock { $0[key] = Watch(pidfd: -1, tryReap: tryReap) }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let polling = watches.withLock { $0.values.contains { $0.pidfd < 0 } }
            let count = epoll_wait(epoll, &events, Int32(events.count), polling ? 100 : 1000)
            var ready: [Int32] = []
            if count > 0 { ready = events[..<Int(count)].map { $0.data.fd } }
            if polling { ready += watches.withLock { $0.filter { $0.value.pidfd < 0 }.map(\.key) } }
            for key in ready {
                guard let watch = watches.withLock({ $0[key] }), watch.tryReap() else { continue }
                watches.withLock { _ = $0.removeValue(forKey: key) }
                if watch.pidfd >= 0 {
                    epoll_ctl(epoll, EPOLL_CTL_DEL, watch.pidfd, nil)
                    close(watch.pidfd)
                }
            }
        }
    }
}
