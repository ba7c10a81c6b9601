@testable import FLAME
import FLAMETestJobs
import Foundation
import FLAMETestSupport
import Testing

/// Calls through real runner processes: dispatch by type name, results, errors, resources.
@Suite(.timeLimit(.minutes(1))) struct RunnerProcessTests {
    @Test(arguments: TestTransport.allCases) func callRunsTheJobInARunnerProcessAndReturnsItsOutput(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "echo", max: 1), over: transport) { pool in
            let result1 = try await pool.call(Echo(41))
            #expect(result1 == 41)
            let runnerPid = try await pool.call(WhoAmI())
            #expect(runnerPid != getpid())
            #expect(processIsAlive(runnerPid))
            let result2 = try await pool.call(InsideRunner())
            #expect(result2)
        }
    }

    @Test(arguments: TestTransport.allCases) func nestedAndGenericJobTypesResolveOnTheRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "types", max: 1), over: transport) { pool in
            let result3 = try await pool.call(Outer.Nested(text: "swift"))
            #expect(result3 == "SWIFT")
            let result4 = try await pool.call(Wrap(3))
            #expect(result4 == [3, 3])
            let result5 = try await pool.call(Wrap(Wrap("x"))).map(\.value)
            #expect(result5 == ["x", "x"])
        }
    }

    @Test(arguments: TestTransport.allCases) func jobsReachTheResourcesTheAppSetUpBeforeBootstrap(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "resources", max: 1), over: transport) { pool in
            let result6 = try await pool.call(ReadGreeting())
            #expect(result6 == "hello from the app's own setup")
        }
    }

    @Test(arguments: TestTransport.allCases) func codableJobErrorArrivesAsItselfAndOthersByNameAndDescription(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "errors", max: 1), over: transport) { pool in
            let codable = try #require(await caught { try await pool.call(Fail(codable: true)) } as? RemoteJobError)
            #expect(codable.typeName == "FLAMETestJobs.QuotaExceeded")
            #expect(codable.underlying as? QuotaExceeded == QuotaExceeded(limit: 42))

            let plain = try #require(await caught { try await pool.call(Fail(codable: false)) } as? RemoteJobError)
            #expect(plain.typeName == "FLAMETestJobs.PlainFailure")
            #expect(plain.message == "plain failure happened")
            #expect(plain.underlying == nil)
        }
    }

    @Test(arguments: TestTransport.allCases) func unknownTypeAndUndecodableJobAreClearErrorsAndTheRunnerKeepsServing(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "unknown", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let unknown = await caught { try await pool.call(OnlyInTheTestBundle()) }
            #expect(FLAMEError.Code.unknownJobType ~= unknown!)
            let undecodable = await caught { try await pool.call(Picky(value: -1)) }
            #expect(FLAMEError.Code.jobDecodingFailed ~= undecodable!)
            let result7 = try await pool.call(WhoAmI())
            #expect(result7 == pid)  // same runner, still serving
        }
    }

    @Test(arguments: TestTransport.allCases) func privateJobTypesAreRefusedBeforeAnythingIsSent(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "private", max: 1), over: transport) { pool in
            let error = await caught { try await pool.call(PrivateJob()) }
            #expect(FLAMEError.Code.invalidJobType ~= error!)
            #expect((error as? FLAMEError)?.message.contains("internal or public") == true)
            #expect(await pool.status().runners.isEmpty)
        }
    }

    @Test(arguments: TestTransport.allCases) func payloadsOfAMebibyteCrossBothWays(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "blob", max: 1), over: transport) { pool in
            let big = [UInt8](repeating: 42, count: 1 << 20)
            let result8 = try await pool.call(Blob(bytes: big, replySize: -1))
            #expect(result8 == big)
            let result9 = try await pool.call(Blob(bytes: [], replySize: 1 << 20)).count
            #expect(result9 == 1 << 20)
        }
    }

    /// Large frames fill the socket, so their rest and the small frames sent after them go
    /// through the event loop: every payload must arrive whole and be its own call's. (The
    /// narrower race, a sender appending while another's write comes back short, is not
    /// forced here.)
    @Test(arguments: TestTransport.allCases) func framesQueuedBehindAFullSocketKeepTheirOrder(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "full", max: 1, maxConcurrency: 64), over: transport) { pool in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<48 {
                    group.addTask {
                        let size = index % 3 == 0 ? 700_000 + index : index
                        let bytes = [UInt8](repeating: UInt8(index), count: size)
                        let echoed = try await pool.call(Blob(bytes: bytes, replySize: -1))
                        #expect(echoed == bytes, "call \(index)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test(arguments: TestTransport.allCases) func manyConcurrentCallsEachGetTheirOwnResult(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "many", max: 2, maxConcurrency: 16), over: transport) { pool in
            try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for i in 0..<500 { group.addTask { (i, try await pool.call(Echo(i))) } }
                for try await (sent, received) in group { #expect(sent == received) }
            }
            let status = await pool.status()
            #expect(status.callsCompleted == 500)
            #expect(status.runners.count <= 2)
        }
    }

    @Test(arguments: TestTransport.allCases) func runnerStdoutAndStderrAreCapturedPerRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "shout", max: 1), over: transport) { pool in
            _ = try await pool.call(Shout(lines: ["one", "two"]))
            let runner = try #require(await pool.status().runners.first)
            await eventually {
                let lines = await pool.output(ofRunner: runner.id)?.lines.map(\.text) ?? []
                return ["one", "two", "err: one", "err: two"].allSatisfy(lines.contains)
            }
            let streams = await pool.output(ofRunner: runner.id)?.lines.filter { $0.text == "err: one" }.map(\.stream)
            #expect(streams == [.stderr])
        }
    }

    /// An InlineJob runs on the runner's reader thread; any other job on the cooperative
    /// pool. An inline job that suspends, yields or starts children hands that on to the pool,
    /// so the reader goes back to reading (a lost job shows as a 5 s timeout, not 30 s).
    @Test(arguments: TestTransport.allCases) func inlineJobsRunOnTheReaderAndOthersOnThePool(over transport: TestTransport) async throws {
        // min 1: the runner boots with the pool (under bootTimeout), so the calls' 5 s covers
        // their jobs only; a boot slowed by a loaded CI machine timed the first call out once.
        try await withPool(PoolConfiguration(name: "inline", min: 1, max: 1, timeout: .seconds(5)), over: transport) { pool in
            #expect(try await pool.call(InlineThreadName()) == "flame-reader")
            #expect(try await pool.call(ThreadName()) != "flame-reader")
            let nap = try await pool.call(InlineNap(milliseconds: 20))
            #expect(nap.first == "flame-reader" && nap.last != "flame-reader", "\(nap)")
            #expect(try await pool.call(InlineWithChildren()).allSatisfy { $0 != "flame-reader" })
            // A yielding inline job waits for another call's effect: the reader must read it.
            let flag = "/tmp/flame-inline-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            defer { unlink(flag) }
            let waiting = Task { try await pool.call(InlineYieldsUntilFileExists(path: flag)) }
            await eventually { await pool.status().runners.first?.inFlight == 1 }  // read, and yielding
            #expect(try await pool.call(Touch(path: flag)))
            #expect(try await waiting.value)
            // Many at once, mixed: every call is answered.
            let names = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<200 { group.addTask { i % 2 == 0 ? try await pool.call(InlineThreadName()) : try await pool.call(ThreadName()) } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(names.filter { $0 == "flame-reader" }.count == 100)
        }
    }

    @Test(arguments: TestTransport.allCases) func heartbeatsReportRunnerMemoryAndCPU(over transport: TestTransport) async throws {
        var configuration = PoolConfiguration(name: "heartbeat", max: 1)
        configuration.heartbeatInterval = .milliseconds(100)
        try await withPool(configuration, over: transport) { pool in
            _ = try await pool.call(Echo(1))
            await eventually { (await pool.status().runners.first?.residentBytes ?? 0) > 1_000_000 }
            // An idle runner reports little CPU; one spinning a core reports much of one (on a
            // loaded 2-core machine it may get half of one: the bar is a third).
            await eventually { (await pool.status().runners.first?.cpuPercent ?? 100) < 15 }
            let spin = Task { try await pool.call(Spin(milliseconds: 20_000)) }
            await eventually { (await pool.status().runners.first?.cpuPercent ?? 0) > 33 }
            spin.cancel()
            _ = try? await spin.value
        }
    }
}

/// Exists only in the test bundle: the runner executable cannot resolve it.
struct OnlyInTheTestBundle: Job {
    func run() async throws -> Int { 0 }
}

private struct PrivateJob: Job {
    func run() async throws -> Int { 0 }
}

@Suite(.timeLimit(.minutes(1))) struct RunnerOutputTests {
    @Test(arguments: TestTransport.allCases) func printedLinesArriveWhileTheRunnerLives(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "print", max: 1), over: transport) { pool in
            _ = try await pool.call(PrintAndWait(text: "printed by a job"))
            let runner = try #require(await pool.status().runners.first)
            await eventually(within: .seconds(3)) {
                await pool.output(ofRunner: runner.id)?.lines.contains { $0.text == "printed by a job" } == true
            }
        }
    }
}
