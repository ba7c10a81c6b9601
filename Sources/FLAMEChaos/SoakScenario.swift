import FLAME

extension ChaosSuite {
    /// Steady load for the profile's soak time, scaling between (min 0, max 2) and
    /// (min 3, max 6) every 3 s, sampling the parent's fds, threads, zombies and RSS. The
    /// first and last samples are taken at the same scale with its runners up.
    func soak() async throws -> ScenarioReport {
        var report = ScenarioReport(name: "soak")
        let pool = try await pool("chaos-soak", min: 3, max: 6, configure: { $0.idleShutdownAfter = .milliseconds(500) })
        let load = Load(pool: pool, callers: profile.callers)
        try await Task.sleep(for: .seconds(2))
        let first = ProcessProbe.sample()
        let firstRunners = await pool.status().runners.count
        report.before = first
        var curve = [first]
        let start = ContinuousClock.now
        var lastSample = start
        var small = false
        var lingering: Set<Int32> = []
        while ContinuousClock.now - start < profile.soak {
            try await Task.sleep(for: .seconds(3))
            small.toggle()
            if small { try await pool.scale(min: 0, max: 2) } else { try await pool.scale(min: 3, max: 6) }
            report.faults += 1
            if ContinuousClock.now - lastSample >= profile.soak / 10 {
                let sample = ProcessProbe.sample()
                curve.append(sample)
                lastSample = .now
                if !sample.zombies.isEmpty {  // a runner just exiting; it must be reaped soon
                    try await Task.sleep(for: .seconds(1))
                    lingering.formUnion(sample.zombies.intersection(ProcessProbe.sample().zombies))
                }
            }
        }
        try await pool.scale(min: 3, max: 6)
        _ = await recovery(of: pool, since: .now, without: -1, atLeast: 3)
        try await Task.sleep(for: .seconds(2))
        let last = ProcessProbe.sample()
        // Each runner holds 4 fds (socket, stdout, stderr, pidfd) and an I/O thread: the
        // bounds allow for the runners the load may have added since the first sample.
        let extraRunners = max(0, await pool.status().runners.count - firstRunners)
        curve.append(last)
        report.after = last
        report.absorb(await load.stop())
        report.checks.append("curve: " + curve.map { "\($0.fileDescriptors)fd/\($0.threads)th/\($0.residentBytes >> 20)MB" }.joined(separator: " "))
        let fdBound = first.fileDescriptors + 6 + 4 * extraRunners
        let threadBound = first.threads + 6 + extraRunners
        report.expect(last.fileDescriptors <= fdBound, "file descriptors \(first.fileDescriptors) → \(last.fileDescriptors) (bound \(fdBound))")
        report.expect(last.threads <= threadBound, "threads \(first.threads) → \(last.threads) (bound \(threadBound))")
        let transient = curve.reduce(0) { $0 + $1.zombieChildren }
        report.expect(lingering.isEmpty, "no child left unreaped for a second (\(transient) seen just exiting, \(lingering.count) lingering)")
        let bound = first.residentBytes + first.residentBytes / 2 + (16 << 20)
        report.expect(last.residentBytes <= bound, "RSS \(first.residentBytes >> 20) → \(last.residentBytes >> 20) MB (bound \(bound >> 20) MB)")
        await pool.shutdown()
        return report
    }
}
