import Foundation
import Testing

/// A hang must fail its test, not stall CI: every suite of every test target has a time limit.
@Suite(.timeLimit(.minutes(1))) struct SuiteLimitTests {
    @Test func everySuiteHasATimeLimit() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = try #require(FileManager.default.enumerator(atPath: tests.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        var suites = 0
        for file in files {
            let text = try String(contentsOfFile: tests.appendingPathComponent(file).path, encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("@Suite") && !line.contains("\"@Suite") {
                suites += 1
                #expect(line.contains(".timeLimit("), "\(file): \(line)")
            }
        }
        #expect(suites > 30)
    }
}
