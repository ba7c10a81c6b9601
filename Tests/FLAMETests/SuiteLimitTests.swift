import Foundation
import Testing

/// A hang must fail its test, not stall CI: every test of every test target is in a type
/// marked `@Suite(… .timeLimit(…) …)` (or an extension of one), and none is a free function
/// (which no suite limits).
@Suite(.timeLimit(.minutes(1))) struct SuiteLimitTests {
    @Test func everyTestIsInASuiteWithATimeLimit() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = try #require(FileManager.default.enumerator(atPath: tests.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        var testsSeen = 0
        let sources = try files.map { file in
            (file, try String(contentsOfFile: tests.appendingPathComponent(file).path, encoding: .utf8).split(separator: "\n"))
        }
        let declaration = /^(?:@Suite\(.*\) )?(?:(?:final |private |fileprivate )*(?:struct|class|enum|extension|actor) (\w+))/
        // Suites with a limit, by name: an extension of one is limited too.
        var limitedSuites: Set<Substring> = []
        for (_, lines) in sources {
            for (index, line) in lines.enumerated() {
                guard let match = line.firstMatch(of: declaration), !line.contains("extension ") else { continue }
                let attribute = index > 0 && lines[index - 1].hasPrefix("@Suite") ? lines[index - 1] : line
                if attribute.hasPrefix("@Suite") && attribute.contains(".timeLimit(") { limitedSuites.insert(match.1) }
            }
        }
        for (file, lines) in sources {
            // The top-level declaration each line belongs to, and whether its @Suite has a limit.
            var current: (name: Substring, limited: Bool)?
            for (index, line) in lines.enumerated() {
                if let match = line.firstMatch(of: declaration) {
                    let attribute = index > 0 && lines[index - 1].hasPrefix("@Suite") ? lines[index - 1] : line
                    let isExtension = line.contains("extension ")
                    current = (match.1, isExtension ? limitedSuites.contains(match.1) : attribute.hasPrefix("@Suite") && attribute.contains(".timeLimit("))
                } else if line.hasPrefix("}") || line.hasPrefix("func ") || line.hasPrefix("private func ") {
                    current = nil
                }
                guard line.contains("@Test"), !line.contains("\"@Test") else { continue }
                testsSeen += 1
                #expect(line.hasPrefix(" ") && current?.limited == true, "\(file):\(index + 1) is not in a suite with a time limit (in \(current?.name ?? "no type"))")
            }
        }
        #expect(testsSeen > 150)
    }
}
