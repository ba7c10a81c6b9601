import FLAME
import FLAMETestJobs
import FLAMETestSupport
import Testing

/// Payloads a job should never carry: refused with errors that say why, and the runner keeps
/// serving its other calls.
@Suite struct HostileInputTests {
    @Test func aJobLargerThanAFrameIsRefusedBeforeSendingAndTheRunnerLives() async throws {
        try await withPool(PoolConfiguration(name: "huge-job", max: 1)) { pool in
            let pid = try await pool.call(WhoAmI())
            let huge = [UInt8](repeating: 1, count: 65 << 20)
            let error = await caught { try await pool.call(Blob(bytes: huge, replySize: 0)) }
            #expect(FLAMEError.Code.jobEncodingFailed ~= error!)
            #expect("\(error!)".contains("64 MiB"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)  // the same runner, still serving
        }
    }

    @Test func anOutputLargerThanAFrameFailsTheCallNotTheRunner() async throws {
        try await withPool(PoolConfiguration(name: "huge-output", max: 1)) { pool in
            let pid = try await pool.call(WhoAmI())
            let error = await caught { try await pool.call(Blob(bytes: [], replySize: 65 << 20)) }
            #expect(FLAMEError.Code.jobEncodingFailed ~= error!)
            #expect("\(error!)".contains("64 MiB"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)
        }
    }

    @Test func nestingDeeperThanTheDecoderAllowsIsAClearErrorAndTheRunnerLives() async throws {
        try await withPool(PoolConfiguration(name: "deep", max: 1)) { pool in
            let pid = try await pool.call(WhoAmI())
            #expect(try await pool.call(Deep(depth: 100)) == 1)
            let error = await caught { try await pool.call(Deep(depth: 2_000)) }
            #expect(FLAMEError.Code.jobDecodingFailed ~= error!)
            #expect("\(error!)".contains("nesting deeper than"), "\(error!)")
            #expect(try await pool.call(WhoAmI()) == pid)
        }
    }
}
