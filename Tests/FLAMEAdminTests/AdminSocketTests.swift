import FLAME
@testable import FLAMEAdmin
import FLAMEAdminClient
import FLAMEAdminProtocol
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct AdminSocketTests {
    @Test func snapshotCarriesTheContractFieldsOfEveryPoolAndRunner() async throws {
        try await withAdminPool(PoolConfiguration(name: "snap", min: 1, max: 2)) { pool, harness in
            for i in 0..<10 { _ = try await pool.call(Echo(i)) }
            let client = try await harness.client()
            defer { client.close() }
            #expect(client.server?.app == "tests")
            guard case .snapshot(let snapshot) = try await client.request(.snapshot) else {
                Issue.record("no snapshot")
                return
            }
            #expect(snapshot.protocolVersion == 1 && snapshot.pid == getpid())
            let mine = try #require(snapshot.pools.first { $0.name == "snap" })
            #expect(mine.min == 1 && mine.max == 2 && mine.maxConcurrency == 100)
            #expect(mine.calls.completed == 10)
            #expect(mine.latency.p50Us > 0)
            let runner = try #require(mine.runners.first)
            #expect(runner.state == "idle" && runner.pid.map(processIsAlive) == true && runner.host == "local")
            // The line the server sent (not a re-encoding) has every contract field, at its
            // documented place, with the documented JSON type.
            let raw = try RawConnection(path: harness.path)
            await raw.write("{\"type\":\"hello\",\"protocol\":1}\n{\"type\":\"snapshot\",\"id\":7}\n")
            _ = await raw.line()
            let line = try #require(await raw.line())
            // Foundation reads it, as any client would; AnyJSON keeps numbers, strings and
            // booleans apart.
            let top = try JSONDecoder().decode(AnyJSON.self, from: Data(line))
            #expect(top["type"] == .string("snapshot") && top["id"] == .number(7))
            expectFields(top, numbers: ["protocol", "pid", "uptimeSeconds"], strings: ["app"], in: "snapshot")
            let pool = try #require(top["pools"]?.elements?.first { $0["name"] == .string("snap") })
            expectFields(pool, numbers: ["min", "max", "maxConcurrency", "queueDepth", "pendingBoots"], strings: ["name"], in: "pool")
            expectFields(try #require(pool["calls"]), numbers: ["completed", "failed", "timedOut"], in: "calls")
            expectFields(try #require(pool["latency"]), numbers: ["p50Us", "p95Us", "p99Us", "maxUs"], in: "latency")
            expectFields(try #require(pool["bootLatency"]), numbers: ["p50Us", "maxUs"], in: "bootLatency")
            let first = try #require(pool["runners"]?.elements?.first)
            expectFields(
                first, numbers: ["pid", "cpuPercent", "rssBytes", "inFlight", "completed", "failed", "uptimeSeconds"],
                strings: ["id", "state", "host"], in: "runner")
            #expect(pool["calls"]?["completed"] == .number(10))
        }
    }

    /// Records an issue for each of `numbers` that is not a JSON number in `object`, and each of
    /// `strings` that is not a JSON string.
    private func expectFields(
        _ object: AnyJSON, numbers: [String], strings: [String] = [], in what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for field in numbers {
            guard case .number? = object[field] else {
                Issue.record("\(what) lacks the number \"\(field)\": \(String(describing: object[field]))", sourceLocation: sourceLocation)
                continue
            }
        }
        for field in strings {
            guard case .string? = object[field] else {
                Issue.record("\(what) lacks the string \"\(field)\": \(String(describing: object[field]))", sourceLocation: sourceLocation)
                continue
            }
        }
    }

    @Test func badInputGetsAnErrorAndTheConnectionAndServerKeepServing() async throws {
        try await withAdminPool(PoolConfiguration(name: "abuse", max: 1)) { _, harness in
            let raw = try RawConnection(path: harness.path)
            var size = 4 * 1024  // the 100 KB line below cannot go in one write
            setsockopt(raw.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            await raw.write("{\"type\":\"snapshot\"}\n")
            #expect(await raw.reply() == .error(message: "say hello first: {\"type\":\"hello\",\"protocol\":1}"))
            await raw.write("{\"type\":\"hello\",\"protocol\":99}\n")
            guard case .error(let version)? = await raw.reply() else { Issue.record("expected an error"); return }
            #expect(version.contains("protocol 99 is not supported"))
            await raw.write("{\"type\":\"hello\",\"protocol\":1}\n")
            guard case .hello? = await raw.reply() else { Issue.record("expected hello"); return }
            let abuses = [
                "this is not json\n", "{\"type\":\"teleport\"}\n", "{\"type\":\"scale\",\"pool\":\"abuse\"}\n",
                "{\"type\":\"subscribe\",\"intervalMs\":5}\n", "[1,2,3]\n", "{\"type\":\"kill\"}\n",
                String(repeating: "x", count: 100_000) + "\n",
            ]
            for abuse in abuses {
                await raw.write(abuse)
                guard case .error(let message)? = await raw.reply() else {
                    Issue.record("no error reply for \(abuse.prefix(40))")
                    continue
                }
                #expect(!message.isEmpty)
            }
            await raw.write("{\"type\":\"snapshot\"}\n")
            guard case .snapshot? = await raw.reply() else { Issue.record("the connection stopped serving"); return }
            let other = try await harness.client()
            guard case .snapshot = try await other.request(.snapshot) else { Issue.record("the server stopped serving"); return }
            other.close()
        }
    }

    @Test func scaleDrainAndKillThroughTheSocketActOnRealRunners() async throws {
        try await withAdminPool(PoolConfiguration(name: "ops", min: 0, max: 4, maxConcurrency: 2)) { pool, harness in
            let client = try await harness.client()
            defer { client.close() }
            #expect(try await client.request(.scale(pool: "ops", min: 3, max: nil)) == .ok(message: "pool ops scaled to min 3, max 4"))
            await eventually { await pool.status().runners.filter { $0.state == .idle }.count == 3 }
            let pids = await pool.status().runners.compactMap(\.pid)
            #expect(pids.allSatisfy(processIsAlive))

            // Drain one runner under load: no call is lost, and the runner goes away for real.
            let victim = await pool.status().runners[0].id
            let victimPid = try #require(await pool.status().runners[0].pid)
            let completed = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<40 { group.addTask { try await pool.call(Sleep(milliseconds: 10 + i % 5)) } }
                try await Task.sleep(for: .milliseconds(20))
                _ = try await client.request(.drainRunner(victim))
                var count = 0
                for try await _ in group { count += 1 }
                return count
            }
            #expect(completed == 40)
            await eventually { await !pool.status().runners.contains { $0.id == victim } }
            await eventually { !processIsAlive(victimPid) }
            // The pool still keeps its min of 3 without the drained runner.
            await eventually { await pool.status().runners.filter { $0.state == .idle }.count >= 3 }

            // Scale down: surplus runners exit for real.
            _ = try await client.request(.scale(pool: "ops", min: 0, max: 1))
            await eventually { await pool.status().runners.count == 1 }
            await eventually { pids.filter(processIsAlive).count <= 1 }

            // Kill fails only that runner's calls.
            let survivorPid = try #require(await pool.status().runners.first?.pid)
            let call = Task { try await pool.call(Sleep(milliseconds: 5_000)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }
            let runner = try #require(await pool.status().runners.first?.id)
            #expect(try await client.request(.kill(runner: runner)) == .ok(message: "runner \(runner) killed"))
            let error = await caught { try await call.value }
            #expect(FLAMEError.Code.runnerKilled ~= error!)
            await eventually { !processIsAlive(survivorPid) }

            let unknown = await caught { try await client.request(.kill(runner: "ops-99")) }
            #expect(unknown as? AdminClientError == .refused("no runner ops-99"))
        }
    }

    @Test func logsTailAndFollowARunnersOutput() async throws {
        try await withAdminPool(PoolConfiguration(name: "logs", max: 1)) { pool, harness in
            _ = try await pool.call(Shout(lines: ["first", "second"]))
            let runner = try #require(await pool.status().runners.first?.id)
            await eventually { (await pool.output(ofRunner: runner)?.lines.count ?? 0) >= 4 }
            let client = try await harness.client()
            defer { client.close() }
            // stdout and stderr are separate pipes: order across them is not defined, within each it is.
            var tail: [LogLine] = []
            for try await reply in client.stream(.logs(source: .runner(runner), lines: 3, follow: false)) {
                if case .log(let line) = reply { tail.append(line) }
            }
            #expect(tail.count == 3)
            var lines: [LogLine] = []
            let stream = client.stream(.logs(source: .runner(runner), lines: 4, follow: true))
            var iterator = stream.makeAsyncIterator()
            while let reply = try await iterator.next() {
                if case .log(let line) = reply { lines.append(line) }
                if case .logsEnd = reply { break }
            }
            #expect(lines.filter { $0.stream == "stdout" }.map(\.line) == ["first", "second"])
            #expect(lines.filter { $0.stream == "stderr" }.map(\.line) == ["err: first", "err: second"])
            _ = try await pool.call(Shout(lines: ["third"]))
            var followed: [String] = []
            while followed.count < 2, let reply = try await iterator.next() {
                if case .log(let line) = reply { followed.append(line.line) }
            }
            #expect(Set(followed) == ["third", "err: third"])
        }
    }

    @Test func eventsAndMetricsAreServed() async throws {
        try await withAdminPool(PoolConfiguration(name: "watch", max: 2)) { pool, harness in
            let client = try await harness.client()
            defer { client.close() }
            let stream = client.stream(.subscribe(snapshots: false, intervalMilliseconds: 1000, events: true))
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next() == .subscribed)
            _ = try await pool.call(Echo(1))
            var kinds: [String] = []
            while let reply = try await iterator.next() {
                if case .event(let event) = reply, event.pool == "watch" {
                    kinds.append(event.kind)
                    if event.kind == "runnerBooted" { break }
                }
            }
            #expect(kinds.last == "runnerBooted")
            guard case .metrics(let text) = try await client.request(.metrics) else { Issue.record("no metrics"); return }
            #expect(text.contains("flame_calls_total{pool=\"watch\",outcome=\"completed\"} 1"))
            #expect(text.contains("# TYPE flame_runners gauge"))
        }
    }

    @Test func readOnlyServerRefusesEveryMutatingRequest() async throws {
        try await withAdminPool(PoolConfiguration(name: "ro", max: 1), readOnly: true) { _, harness in
            let client = try await harness.client()
            defer { client.close() }
            #expect(client.server?.readOnly == true)
            for request in [AdminRequest.scale(pool: "ro", min: 1, max: nil), .drainPool("ro"), .drainRunner("ro-1"), .kill(runner: "ro-1")] {
                let error = await caught { try await client.request(request) }
                #expect((error as? AdminClientError).map { "\($0)".contains("read-only") } == true)
            }
            guard case .snapshot = try await client.request(.snapshot) else { Issue.record("snapshot refused"); return }
        }
    }

    @Test func aSlowClientLosesLinesNotThePools() async throws {
        var configuration = PoolConfiguration(name: "slow", max: 1)
        configuration.outputLinesPerRunner = 10_000
        try await withAdminPool(configuration, clientBufferBytes: 8 * 1024) { pool, harness in
            // 6,000 lines of output (3,000 each on stdout and stderr) for a logs backlog.
            let line = String(repeating: "x", count: 100)
            _ = try await pool.call(Shout(lines: Array(repeating: line, count: 3_000)))
            let runner = try #require(await pool.status().runners.first?.id)
            let raw = try RawConnection(path: harness.path)
            var size = 4 * 1024  // shrink the kernel buffers so the server's own bound is reached
            setsockopt(raw.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            await raw.write("{\"type\":\"hello\",\"protocol\":1}\n{\"type\":\"subscribe\",\"intervalMs\":100,\"snapshots\":true}\n")
            // Far more than the kernel's socket buffers (~200 KB) and the server's 8 KiB bound
            // hold, from one cheap request: a backlog of 6,000 lines, ~900 KB of replies. (2,000
            // snapshot requests did it too, but their work starved the rest of the suite.)
            await raw.write("{\"type\":\"logs\",\"runner\":\"\(runner)\",\"lines\":6000}\n")
            // Not reading for 2 s while snapshots pile up; calls stay fast.
            let started = ContinuousClock.now
            for i in 0..<200 { _ = try await pool.call(Echo(i)) }
            try await Task.sleep(for: .seconds(2))
            #expect(ContinuousClock.now - started < .seconds(10))
            // The server buffered up to its bound for this client, and never more.
            let buffered = try #require(harness.server.bufferedBytesHighWater.max())
            #expect(buffered > 4 * 1024 && buffered <= 8 * 1024, "\(buffered) bytes buffered for one client")
            var sawDropped = false
            for _ in 0..<7_000 {
                guard let reply = await raw.reply() else { break }
                if case .dropped(let count) = reply {
                    #expect(count > 0)
                    sawDropped = true
                    break
                }
            }
            #expect(sawDropped)
        }
    }

    @Test func socketFileLifecycleAndDirectoryChecks() async throws {
        let directory = "/tmp/flame-admin-life-\(UUID().uuidString.prefix(8))"
        try SocketLocation.prepareDirectory(directory)
        defer { rmdir(directory) }
        // A stale socket of a dead parent is removed at start.
        let stale = directory + "/ghost-999999.sock"
        #expect(FileManager.default.createFile(atPath: stale, contents: nil))
        let server = AdminServer(.init(app: "life", path: directory + "/life-\(getpid()).sock"))
        try await server.start()
        #expect(access(stale, F_OK) != 0)
        var info = stat()
        #expect(stat(server.path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(stat(directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
        // A second server on the same path (a shared FLAME_ADMIN_SOCKET) does not steal it.
        await #expect(throws: (any Error).self) { try await AdminServer(.init(app: "thief", path: server.path)).start() }
        #expect(access(server.path, F_OK) == 0)
        await server.stop()
        #expect(access(server.path, F_OK) != 0)  // gone on clean stop
        // A dead socket file at the path is replaced.
        let reborn = AdminServer(.init(app: "life", path: server.path))
        let dead = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(SocketLocation.address(of: server.path)?.bind(dead) == 0)
        close(dead)  // bound, never listened, closed: a stale socket file
        try await reborn.start()
        await reborn.stop()

        // A directory open to others is refused.
        let open = "/tmp/flame-admin-open-\(UUID().uuidString.prefix(8))"
        mkdir(open, 0o777)
        chmod(open, 0o777)
        defer { rmdir(open) }
        #expect(throws: SocketLocation.DirectoryError.self) { try SocketLocation.prepareDirectory(open) }
        await #expect(throws: (any Error).self) { try await AdminServer(.init(app: "x", path: open + "/x.sock")).start() }

        // A private directory that belongs to another user is refused too (needs root to make).
        if runningAsRoot || everyTestMustRun {
            try #require(runningAsRoot, "needs root to make a directory that belongs to another user")
            let theirs = "/tmp/flame-admin-theirs-\(UUID().uuidString.prefix(8))"
            mkdir(theirs, 0o700)
            chown(theirs, 65534, 65534)
            defer { rmdir(theirs) }
            #expect(throws: SocketLocation.DirectoryError.self) { try SocketLocation.prepareDirectory(theirs) }
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct SnapshotSubscriptionTests {
    @Test func subscribersSharingOneEncodedSnapshotEachGetTheirOwnID() async throws {
        try await withAdminPool(PoolConfiguration(name: "subs", max: 1)) { _, harness in
            // Two subscribers at the same interval, with ids of their own choosing (5 and 9):
            // the server encodes one snapshot for both, and each line must carry its own id.
            let first = try RawConnection(path: harness.path)
            let second = try RawConnection(path: harness.path)
            for (connection, id) in [(first, 5), (second, 9)] {
                await connection.write(
                    "{\"type\":\"hello\",\"protocol\":1}\n{\"type\":\"subscribe\",\"id\":\(id),\"intervalMs\":100,\"snapshots\":true}\n")
                guard case .hello? = await connection.reply() else { Issue.record("no hello"); return }
                #expect(await connection.envelope() == AdminEnvelope(id: id, .subscribed))
            }
            for (connection, id) in [(first, 5), (second, 9)] {
                var ids: [Int?] = []
                while ids.count < 3, let envelope = await connection.envelope() {
                    if case .snapshot(let snapshot) = envelope.body, snapshot.pools.contains(where: { $0.name == "subs" }) {
                        ids.append(envelope.id)
                    }
                }
                #expect(ids == [id, id, id])
            }
            let line = AdminCodec.adding(id: 42, to: Array("{\"type\":\"ok\"}\n".utf8))
            #expect(try AdminCodec.decode(AdminReply.self, from: line.dropLast()) == AdminEnvelope(id: 42, .ok(message: "")))
        }
    }
}
