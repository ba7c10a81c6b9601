public import FLAME
import FLAMEChaos
import Foundation
public import Testing
import Synchronization

// Pools of real runner processes under test, checked for leftovers.

/// The helper runner executable built next to the test bundle (see Package.swift).
public enum TestRunner {
    public static let executable: String = {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return bundle.deletingLastPathComponent().appendingPathComponent("flame-test-runner").path
    }()

    /// Executables built next to the test bundle (flamectl, flame-demo).
    public static func sibling(_ name: String) -> String {
        URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
    }

    public static func backend(environment: [String: String] = [:], over transport: TestTransport = .socketpair) async throws -> LocalProcessBackend {
        LocalProcessBackend(executable: executable, arguments: [], environment: environment, transport: try await transport.backendTransport())
    }
}

/// How the runners of a test reach their parent: the integration tests run over both.
public enum TestTransport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case socketpair, tcp

    /// One loopback listener for every TCP test of the process, as an app would have.
    private static let listener = Task { try await RunnerListener.start() }

    public func backendTransport() async throws -> LocalProcessBackend.Transport {
        switch self {
        case .socketpair: .socketpair
        case .tcp: .tcp(try await Self.listener.value)
        }
    }

    public var testDescription: String { rawValue }
}

/// A backend that launches through `base` and remembers the pid of every runner it booted,
/// so a test can check afterwards that none is left.
public final class RecordingBackend: Backend {
    public let base: any Backend
    private let recorded = Mutex<[Int32]>([])

    public init(_ base: any Backend) { self.base = base }

    /// The pids of every runner booted so far, in boot order.
    public var pids: [Int32] { recorded.withLock { $0 } }

    public func boot(_ spec: RunnerSpec, events: any RunnerEventHandler) async throws -> any RunnerLink {
        let link = try await base.boot(spec, events: events)
        if let pid = link.pid { recorded.withLock { $0.append(pid) } }
        return link
    }
}

/// A pool of real runner processes, shut down after `body`; then every runner it booted must
/// be gone: no runner listed, and no process of them left as a child of this one (running or
/// an unreaped zombie).
public func withPool<T>(
    _ configuration: PoolConfiguration, environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation, over transport: TestTransport = .socketpair,
    _ body: (Pool) async throws -> T
) async throws -> T {
    let backend = RecordingBackend(try await TestRunner.backend(environment: environment, over: transport))
    let pool = try await Pool(configuration, backend: backend)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(pool))
    } catch {
        result = .failure(error)
    }
    await pool.shutdown()
    let listed = await pool.status().runners.map(\.id)
    if !listed.isEmpty { Issue.record("runners still listed after shutdown: \(listed)", sourceLocation: sourceLocation) }
    let leftovers = ProcessProbe.children().intersection(backend.pids)
    if !leftovers.isEmpty {
        Issue.record("runner processes left after shutdown: \(leftovers.sorted())", sourceLocation: sourceLocation)
    }
    return try result.get()
}
