import FLAME
import FLAMESlurm
import FLAMETestSupport
import Foundation
import Testing

/// The README's Slurm example is this function's body, so it compiles with every build; the
/// test holds the two to the same text. (It is not run: it names a cluster of the reader's.)
@Suite(.timeLimit(.minutes(1))) struct ReadmeSlurmExampleTests {
    @Test func theReadmeShowsTheCompiledSlurmExampleVerbatim() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = try #require(source.range(of: "\n// README begin\n"))
        let end = try #require(source.range(of: "\n// README end\n", range: begin.upperBound..<source.endIndex))
        let body = source[begin.upperBound...end.lowerBound]
        #expect(readme.contains("```swift\nimport FLAMESlurm\n\n" + body + "```"), "README.md's Slurm example and this file differ")
    }
}

func readmeSlurmExample(config: PoolConfiguration) async throws -> Pool {
// README begin
// Listen where the nodes can reach this host; tell runners the name they should dial.
let listener = try await RunnerListener.start(.init(host: "0.0.0.0", port: 7100, advertisedHost: "login1.cluster"))
let backend = SlurmBackend(
    options: SlurmOptions(partition: "batch", timeLimit: .seconds(4 * 3600), cpusPerRunner: 2,
                          memoryPerRunnerMegabytes: 2048, extraArguments: ["--account=imaging"]),
    listener: listener)
let pool = try await Pool(PoolConfiguration(name: "thumbnails", max: 32, bootTimeout: .seconds(120)), backend: backend)
// README end
return pool
}
