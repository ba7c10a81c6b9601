@testable import FLAME
import FLAMETestJobs
import Foundation
import FLAMETestSupport
import Testing

/// The release build of the runner executable, next to the debug one (`make test` builds it).
private let releaseRunner: String = {
    let debugDirectory = URL(fileURLWithPath: TestRunner.executable).deletingLastPathComponent()
    return debugDirectory.deletingLastPathComponent().appendingPathComponent("release/flame-test-runner").path
}()

/// Type names minted by this (debug) test bundle must resolve in a release-optimized runner:
/// types of another module, nested and generic types, and Codable errors coming back.
private let releaseRunnerIsBuilt = FileManager.default.isExecutableFile(atPath: releaseRunner)

@Suite(.timeLimit(.minutes(1)), .enabled(if: releaseRunnerIsBuilt || everyTestMustRun, "needs `swift build -c release --product flame-test-runner` (make test does it)"))
struct ReleaseRunnerTests {
    @Test func jobTypesResolveInAReleaseBuiltRunner() async throws {
        try #require(releaseRunnerIsBuilt, "no release runner at \(releaseRunner): `swift build -c release --product flame-test-runner` (make test does it)")
        let pool = try await Pool(
            PoolConfiguration(name: "release", max: 1),
            backend: LocalProcessBackend(executable: releaseRunner, arguments: []))
        let nested = try await pool.call(Outer.Nested(text: "release"))
        #expect(nested == "RELEASE")
        let generic = try await pool.call(Wrap(Wrap(7)))
        #expect(generic.map(\.value) == [7, 7])
        let error = await caught { try await pool.call(Fail(codable: true)) }
        #expect((error as? RemoteJobError)?.underlying as? QuotaExceeded == QuotaExceeded(limit: 42))
        await pool.shutdown()
    }
}

@Suite(.timeLimit(.minutes(1))) struct NestedPoolTests {
    @Test func aPoolCreatedInsideARunnerGetsMinZero() async throws {
        try await withPool(PoolConfiguration(name: "outer", max: 1)) { pool in
            let encoded = try await pool.call(NestedPoolMin())
            #expect(encoded == 0)  // min 0, no runners booted
        }
    }
}
