public import ArgumentParser
import FLAMEAdminClient
#if canImport(Glibc)
import Glibc
#endif

/// The release these tools belong to, for `--version`.
public let flameSwiftVersion = "0.6.0"

/// How flamectl and flame-top end, the same for both: 0 ok, 1 refused or failed, 2 usage,
/// 3 cannot connect (or the parent did not answer in time).
extension AsyncParsableCommand {
    /// Parses the command line, runs the command, and exits with the tools' codes:
    /// argument-parser's usage errors (64) become 2, an ``AdminClientError`` its own code.
    public static func mainWithToolExitCodes(name: String) async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as AdminClientError {
            writeToStandardError("\(name): \(error)\n")
            Glibc.exit(error.exitCode)
        } catch {
            if exitCode(for: error) == .validationFailure {
                writeToStandardError(fullMessage(for: error) + "\n")
                Glibc.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Writes `text` to standard error, after what standard output holds.
public func writeToStandardError(_ text: String) {
    fflush(nil)
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
