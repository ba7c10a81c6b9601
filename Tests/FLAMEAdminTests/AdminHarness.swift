import FLAME
import FLAMEAdmin
import FLAMEAdminClient
import FLAMEAdminProtocol
import FLAMETestSupport
import Foundation
import Synchronization
import Testing

/// A parent under test: this test process, with real runner pools and an admin server on a
/// socket in a fresh private directory.
struct AdminHarness {
    let directory: String
    let server: AdminServer
    var path: String { server.path }

    /// With `runtimeDirectory`, the socket goes where a parent puts it by default when
    /// `XDG_RUNTIME_DIR` is `runtimeDirectory`: `$XDG_RUNTIME_DIR/flame/tests-PID.sock`.
    /// `tune` changes the server's configuration (limits under test).
    static func start(
        readOnly: Bool = false, clientBufferBytes: Int = 1 << 20, runtimeDirectory: String? = nil,
        tune: (inout AdminServer.Configuration) -> Void = { _ in }
    ) async throws -> AdminHarness {
        let directory = runtimeDirectory.map { $0 + "/flame" } ?? "/tmp/flame-admin-test-\(UUID().uuidString.prefix(8))"
        var configuration = AdminServer.Configuration(
            app: "tests", path: directory + "/tests-\(getpid()).sock", readOnly: readOnly, clientBufferBytes: clientBufferBytes)
        tune(&configuration)
        let harness = AdminHarness(directory: directory, server: AdminServer(configuration))
        try await harness.server.start()
        return harness
    }

    func stop() async {
        await server.stop()
        rmdir(directory)
    }

    func client() async throws -> AdminClient {
        try await AdminClient.connect(path: path, client: "tests")
    }
}

/// Runs `body` with a harness serving this process's pools, stopped afterwards however
/// `body` ends.
func withAdminHarness<T>(
    readOnly: Bool = false, clientBufferBytes: Int = 1 << 20, runtimeDirectory: String? = nil,
    tune: (inout AdminServer.Configuration) -> Void = { _ in }, _ body: (AdminHarness) async throws -> T
) async throws -> T {
    let harness = try await AdminHarness.start(
        readOnly: readOnly, clientBufferBytes: clientBufferBytes, runtimeDirectory: runtimeDirectory, tune: tune)
    do {
        let result = try await body(harness)
        await harness.stop()
        return result
    } catch {
        await harness.stop()
        throw error
    }
}

/// Runs `body` with a pool of real runners registered in this process and a harness serving it.
func withAdminPool<T>(
    _ configuration: PoolConfiguration, readOnly: Bool = false, clientBufferBytes: Int = 1 << 20,
    runtimeDirectory: String? = nil, _ body: (Pool, AdminHarness) async throws -> T
) async throws -> T {
    try await withAdminHarness(readOnly: readOnly, clientBufferBytes: clientBufferBytes, runtimeDirectory: runtimeDirectory) { harness in
        try await withPool(configuration) { pool in try await body(pool, harness) }
    }
}

/// Runs the built flamectl with `arguments` (optionally as another user through setpriv),
/// without the test's FLAME_ADMIN_SOCKET.
func flamectl(_ arguments: [String], asUser uid: Int? = nil) async throws -> CommandResult {
    // The default 5 s is an operator's; under the whole suite on two cores the parent (this
    // process, with every test's pools) has been seen to take longer. Tests of the timeout
    // pass their own.
    var arguments = arguments
    if !arguments.isEmpty, !arguments.contains("--timeout"), !["list", "--help", "--version"].contains(arguments[0]) {
        arguments += ["--timeout", "30s"]
    }
    var environment = ProcessInfo.processInfo.environment
    environment["FLAME_ADMIN_SOCKET"] = nil
    let flamectl = TestRunner.sibling("flamectl")
    guard let uid else { return try await runCommand(flamectl, arguments, environment: environment) }
    return try await runCommand(
        "/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", flamectl] + arguments, environment: environment)
}

/// A raw connection that writes bytes and reads reply lines, for protocol abuse.
final class RawConnection {
    let fd: Int32
    private var reader = LineReader(maximumLength: 1 << 24)
    private var pending: [[UInt8]] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard SocketLocation.address(of: path)?.connect(fd) == 0 else { throw POSIXError(.ECONNREFUSED) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Sends all of `text`. The socket is non-blocking and a long write can be partial; a lost
    /// tail (say the newline of an overlong line) would make the server swallow the next line.
    /// Waits by sleeping, never by blocking a thread of the cooperative pool, which the server
    /// under test needs to answer (gives up after 10 s).
    func write(_ text: String) async {
        let bytes = Array(text.utf8)
        var sent = 0
        let deadline = ContinuousClock.now + .seconds(10)
        while sent < bytes.count, ContinuousClock.now < deadline {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count > 0 {
                sent += count
            } else if count < 0, errno == EAGAIN || errno == EINTR {
                try? await Task.sleep(for: .milliseconds(2))
            } else {
                return
            }
        }
    }

    /// The next reply line as the server sent it (without its newline); nil after 10 s
    /// without one, or on EOF. Polls without blocking a thread (the cooperative pool has as
    /// many threads as cores).
    func line(within timeout: Duration = .seconds(10)) async -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while pending.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            if count < 0 {
                guard errno == EAGAIN, ContinuousClock.now < deadline else { return nil }
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            for case .line(let line) in reader.feed(buffer[..<count]) { pending.append(line) }
        }
        return pending.removeFirst()
    }

    /// The next reply with the id it carries; nil as for ``line()``, or when it does not decode.
    func envelope(within timeout: Duration = .seconds(10)) async -> AdminEnvelope<AdminReply>? {
        guard let line = await line(within: timeout) else { return nil }
        return try? AdminCodec.decode(AdminReply.self, from: line)
    }

    /// The next reply, decoded; nil as for ``envelope()``.
    func reply(within timeout: Duration = .seconds(10)) async -> AdminReply? { await envelope(within: timeout)?.body }
}
