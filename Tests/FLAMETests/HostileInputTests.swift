import FLAME
import FLAMETestJobs
import FLAMETestSupport
import Testing

/// Payloads a job should never carry: refused with errors that say why, and the runner keeps
/// serving its other calls.
@Suite(.timeLimit(.minutes(1))) struct HostileInputTests {
    @Test(arguments: TestTransport.allCases) func aJobLargerThanAFrameIsRefusedBeforeSendingAndTheRunnerLives(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "huge-job", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let huge = [UInt8](repeating: 1, count: 65 << 20)
            let error = await caught { try await pool.call(Blob(bytes: huge, replySize: 0)) }
            #expect(FLAMEError.Code.jobEncodingFailed ~= error!)
            #expect("\(error!)".contains("64 MiB"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)  // the same runner, still serving
        }
    }

    @Test(arguments: TestTransport.allCases) func anOutputLargerThanAFrameFailsTheCallNotTheRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "huge-output", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            let error = await caught { try await pool.call(Blob(bytes: [], replySize: 65 << 20)) }
            #expect(FLAMEError.Code.jobEncodingFailed ~= error!)
            #expect("\(error!)".contains("64 MiB"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)
        }
    }

    @Test(arguments: TestTransport.allCases) func nestingDeeperThanTheDecoderAllowsIsAClearErrorAndTheRunnerLives(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "deep", max: 1), over: transport) { pool in
            let pid = try await pool.call(WhoAmI())
            #expect(try await pool.call(Deep(depth: 100)) == 1)
            let error = await caught { try await pool.call(Deep(depth: 2_000)) }
            #expect(FLAMEError.Code.jobDecodingFailed ~= error!)
            #expect("\(error!)".contains("nesting deeper than"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct RogueRunnerTests {
    /// Results are taken only from the runner a call was placed on: a runner answering for
    /// calls it was never given (a bug, or a replay) cannot answer another runner's callers.
    @Test(arguments: TestTransport.allCases) func aRunnerCannotAnswerCallsPlacedOnAnotherRunner(over transport: TestTransport) async throws {
        try await withPool(PoolConfiguration(name: "rogue-results", min: 2, max: 2, maxConcurrency: 1), over: transport) { pool async throws in
            let slow = Task { try await pool.call(Sleep(milliseconds: 1_500)) }
            await eventually { await pool.status().runners.contains { $0.inFlight == 1 } }  // placed on one runner, sleeping
            #expect(try await pool.call(ForgeResults(ids: 1...200, value: 666)) == 666)
            #expect(try await slow.value == 1_500)  // its own answer, not the forgery
            await eventually { await pool.status().runners.allSatisfy { $0.inFlight == 0 } }
            #expect(try await pool.call(Echo(5)) == 5)
        }
    }
}
