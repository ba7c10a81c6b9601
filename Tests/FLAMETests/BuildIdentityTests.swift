@testable import FLAME
import FLAMETestJobs
import FLAMETestSupport
import Foundation
import Testing

/// Build identity across hosts: the executable's ELF build ID, so a copy of the binary on
/// another node is the same build and a rebuilt one is not.
@Suite(.timeLimit(.minutes(1))) struct BuildIdentityTests {
    @Test func theIdentityIsTheExecutablesBuildIDAndACopyKeepsIt() throws {
        let original = BuildIdentity.of(path: TestRunner.executable)
        #expect(original.count == 40 && original.allSatisfy(\.isHexDigit), "\(original)")
        let copy = try CopiedExecutable()
        #expect(BuildIdentity.of(path: copy.path) == original)
        #expect(BuildIdentity.of(path: TestRunner.sibling("flamectl")) != original)
        // A process reads its own from its loaded image: the same as its file's.
        #expect(BuildIdentity.current() == BuildIdentity.of(path: "/proc/self/exe"))
        #expect(BuildIdentity.of(path: TestRunner.executable, environment: ["FLAME_BUILD_ID": "v1.2.3"]) == "v1.2.3")
        #expect(BuildIdentity.of(path: "/nonexistent/flame").hasPrefix("unknown:"))
    }

    @Test func aRebuiltExecutableHasAnotherIdentity() throws {
        let rebuilt = try CopiedExecutable(changingBuildID: true)
        #expect(BuildIdentity.of(path: rebuilt.path) != BuildIdentity.of(path: TestRunner.executable))
    }

    /// The case of a runner on another node: the parent expects its build, the runner runs a
    /// copy of the binary at another path (another inode, another mtime).
    @Test func aRunnerRunningACopyOfTheExecutableIsAccepted() async throws {
        let copy = try CopiedExecutable()
        let pool = try await Pool(
            PoolConfiguration(name: "copied", max: 1, timeout: .seconds(20)),
            backend: LauncherBackend(launcher: CopyLauncher(copy: copy.path), listener: try await RunnerListener.start()))
        #expect(try await pool.call(Echo(7)) == 7)
        await pool.shutdown()
    }

    @Test func aRunnerRunningARebuiltExecutableIsRefused() async throws {
        let rebuilt = try CopiedExecutable(changingBuildID: true)
        let pool = try await Pool(
            PoolConfiguration(name: "rebuilt", max: 1, timeout: .seconds(20)),
            backend: LauncherBackend(launcher: CopyLauncher(copy: rebuilt.path), listener: try await RunnerListener.start()))
        let error = await caught { try await pool.call(Echo(1)) }
        #expect(FLAMEError.Code.buildMismatch ~= (try #require(error)))
        #expect((error as? FLAMEError)?.message.contains(BuildIdentity.of(path: rebuilt.path)) == true, "\(String(describing: error))")
        await pool.shutdown()
    }
}

/// Runs `copy` but expects the build of the test runner it was copied from.
private struct CopyLauncher: RunnerLauncher {
    let copy: String
    var buildID: String { BuildIdentity.of(path: TestRunner.executable) }
    var launchesChildren: Bool { true }
    func launch(_ request: LaunchRequest) async throws -> any LaunchedRunner {
        try await LocalProcessLauncher(executable: copy, arguments: []).launch(request)
    }
}

/// A copy of the test runner in a directory of its own, removed on deinit. With
/// `changingBuildID`, one byte of its build ID note differs: the same code under a new
/// identity, as a rebuild from changed sources would have.
private final class CopiedExecutable {
    let directory: URL
    let path: String

    init(changingBuildID: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("flame-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("flame-test-runner").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: TestRunner.executable))
        if changingBuildID {
            let hex = Array(BuildIdentity.of(path: TestRunner.executable).utf8)
            let id = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
            let at = try #require(bytes.firstRange(of: Data(id)))
            bytes[at.lowerBound] ^= 0xff
        }
        try bytes.write(to: URL(fileURLWithPath: path))
        guard chmod(path, 0o755) == 0 else { throw CocoaError(.fileWriteNoPermission) }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }
}
