import FLAMETestSupport
import Foundation
import Testing

/// The README's example is the `readme-example` target, so it compiles with every build;
/// this holds the two to the same text and runs the app.
@Suite(.timeLimit(.minutes(1))) struct ReadmeExampleTests {
    private let root = repositoryRoot

    @Test func theReadmeShowsTheCompiledExampleVerbatim() throws {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: root.appendingPathComponent("Tests/ReadmeExample/App.swift"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + example + "```"), "README.md's example and Tests/ReadmeExample/App.swift differ")
    }

    @Test func theExampleRunsAndPrintsItsChecksum() async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["FLAME_PARENT"] = nil
        let result = try await runCommand(TestRunner.sibling("readme-example"), [], environment: environment)
        #expect(result.status == 0, "\(result)")
        let expected = "hello".utf8.reduce(0) { $0 &* 31 &+ Int($1) }
        #expect(result.stdout.contains("checksum \(expected) computed in runner process"), "\(result)")
    }
}
