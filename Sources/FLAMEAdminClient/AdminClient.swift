import CFLAMEShims
public import FLAMEAdminProtocol
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the admin client failed; each case maps to one `flamectl` exit code.
public enum AdminClientError: Error, CustomStringConvertible, Equatable {
    /// No socket to talk to (exit 3): the path tried and why.
    case cannotConnect(path: String, reason: String)
    /// The parent refused or failed the request (exit 1).
    case refused(String)
    /// The parent went away mid-conversation (exit 3).
    case disconnected(String)
    /// Several parents run and none was chosen (exit 2).
    case ambiguous(String)
    /// The socket, its directory or the process serving it is not this user's (exit 3):
    /// nothing was sent to it.
    case untrusted(path: String, reason: String)
    /// The parent did not answer in time (exit 3): stopped, hung, or drowning.
    case timedOut(path: String, after: Duration)

    /// The exit code the admin tools use for this error: 1 refused, 2 usage, 3 cannot connect.
    public var exitCode: Int32 {
        switch self {
        case .refused: 1
        case .ambiguous: 2
        case .cannotConnect, .disconnected, .untrusted, .timedOut: 3
        }
    }

    public var description: String {
        switch self {
        case .cannotConnect(let path, let reason): "cannot connect to \(path): \(reason)"
        case .refused(let message): message
        case .disconnected(let message): message
        case .ambiguous(let message): message
        case .untrusted(let path, let reason): "refusing to use the admin socket \(path): \(reason)"
        case .timedOut(let path, let after):
            "the parent at \(path) did not answer within \(after) (is it stopped, or hung? a live process can be stopped with kill -STOP)"
        }
    }
}

/// The one client of the admin protocol, used by `flamectl` and `flame-top`.
///
/// Requests carry an id; replies are routed back by it, so one connection can hold a
/// snapshot subscription and ask for a scale at the same time.
public final class AdminClient: Sendable {
    private enum Waiter {
        case once(CheckedContinuation<AdminReply, any Error>)
        /// `endsAtLogsEnd`: a `logs` request without follow, whose stream is complete after
        /// its backlog.
        case stream(AsyncThrowingStream<AdminReply, any Error>.Continuation, endsAtLogsEnd: Bool)
    }
    private struct State {
        var nextID = 1
        var waiters: [Int: Waiter] = [:]
        /// Why the connection ended: requests made afterwards fail with this same error, so a
        /// parent's refusal read before the hello was even sent stays a refusal (exit 1), not a
        /// disconnection (exit 3) — a race a CI run of clientsOfAnotherUidAreRefused hit.
        var closed: AdminClientError?
        /// The reader closed the descriptor: its number may belong to another file now.
        var socketClosed = false
    }
    public let path: String
    private let fd: Int32
    private let state = Mutex(State())
    private let writeLock = Mutex(())

    private let hello = Mutex<ServerHello?>(nil)

    /// The parent's answer to hello: app, pid, read-only.
    public var server: ServerHello? { hello.withLock { $0 } }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Connects to the socket at `path` and says hello, after checking that the socket, its
    /// directory and the process serving it are this user's (another user's socket where
    /// ours should be would get our commands and feed us its data).
    /// With `timeout`, connecting and the hello must be done within it (else
    /// ``AdminClientError/timedOut(path:after:)``), and later requests get ``deadline(after:)``.
    public static func connect(path: String, client name: String, timeout: Duration? = nil) async throws(AdminClientError) -> AdminClient {
        if access(path, F_OK) == 0, let problem = SocketLocation.socketProblem(path) {
            throw .untrusted(path: path, reason: problem)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotConnect(path: path, reason: String(cString: strerror(errno))) }
        guard let address = SocketLocation.address(of: path) else {
            Glibc.close(fd)
            throw .cannotConnect(path: path, reason: "path too long")
        }
        if let timeout {
            // A stopped parent's full backlog would block connect(2) forever: SO_SNDTIMEO bounds it.
            var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        guard address.connect(fd) == 0 else {
            let timedOut = errno == EAGAIN || errno == EINPROGRESS
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            if timedOut, let timeout { throw .timedOut(path: path, after: timeout) }
            throw .cannotConnect(path: path, reason: reason)
        }
        var uid = uid_t.max
        var pid = pid_t(0)
        guard flame_peer_credentials(fd, &uid, &pid) == 0, uid == geteuid() else {
            Glibc.close(fd)
            throw .untrusted(path: path, reason: "the process serving it (pid \(pid)) runs as uid \(uid == uid_t.max ? "?" : String(uid)), not \(geteuid())")
        }
        let client = AdminClient(path: path, fd: fd)
        client.startReading()
        let clientName = name
        let watchdog = timeout.map { client.deadline(after: $0) }
        defer { watchdog?.cancel() }
        do {
            let reply = try await client.request(.hello(protocolVersion: adminProtocolVersion, client: clientName))
            guard case .hello(let hello) = reply else { throw AdminClientError.refused("unexpected reply to hello: \(reply)") }
            client.hello.withLock { $0 = hello }
            return client
        } catch let error as AdminClientError {
            client.close()
            throw error
        } catch {
            client.close()
            throw .disconnected("\(error)")
        }
    }

    /// Sends `request` and returns its (first) reply; an `error` reply throws ``AdminClientError/refused(_:)``.
    public func request(_ request: AdminRequest) async throws -> AdminReply {
        let reply: AdminReply = try await withCheckedThrowingContinuation { continuation in
            guard let id = register(.once(continuation)) else { return }
            send(request, id: id)
        }
        if case .error(let message) = reply { throw AdminClientError.refused(message) }
        return reply
    }

    /// Sends `request` and streams every reply to it (subscriptions, log follows) until the
    /// connection ends or the stream is dropped. A `logs` request without `follow` finishes
    /// after its backlog (`logsEnd`); an `error` reply finishes the stream by throwing.
    public func stream(_ request: AdminRequest) -> AsyncThrowingStream<AdminReply, any Error> {
        let (stream, continuation) = AsyncThrowingStream<AdminReply, any Error>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        var endsAtLogsEnd = false
        if case .logs(_, _, follow: false) = request { endsAtLogsEnd = true }
        if let id = register(.stream(continuation, endsAtLogsEnd: endsAtLogsEnd)) {
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
            }
            send(request, id: id)
        }
        return stream
    }

    /// Closes the connection; pending requests fail.
    public func close() {
        shutdownSocket()
    }

    private func shutdownSocket() {
        state.withLock { state in
            if !state.socketClosed { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Ends the connection with ``AdminClientError/timedOut(path:after:)`` unless the returned
    /// task is cancelled first: what waits fails with it (a one-shot request, or a stream that
    /// has not started flowing).
    public func deadline(after timeout: Duration) -> Task<Void, Never> {
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled, let self else { return }
            self.end(with: .timedOut(path: self.path, after: timeout))
        }
    }

    /// Fails everything waiting with `error` (the first reason a connection ended stays) and
    /// shuts the socket down.
    private func end(with error: AdminClientError) {
        let waiters = state.withLock { state -> [Waiter] in
            if state.closed == nil { state.closed = error }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        let failure = state.withLock { $0.closed } ?? error
        for waiter in waiters {
            switch waiter {
            case .once(let continuation): continuation.resume(throwing: failure)
            case .stream(let continuation, _):
                if case .timedOut = failure {
                    continuation.finish(throwing: failure)
                } else {
                    continuation.finish(throwing: AdminClientError.disconnected(failure.description))
                }
            }
        }
        shutdownSocket()
    }

    private func register(_ waiter: Waiter) -> Int? {
        let result = state.withLock { state -> Result<Int, AdminClientError> in
            if let closed = state.closed { return .failure(closed) }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = waiter
            return .success(id)
        }
        switch result {
        case .success(let id): return id
        case .failure(let error):
            switch waiter {
            case .once(let continuation): continuation.resume(throwing: error)
            case .stream(let continuation, _): continuation.finish(throwing: error)
            }
            return nil
        }
    }

    private func send(_ request: AdminRequest, id: Int) {
        guard let line = try? AdminCodec.line(request, id: id) else { return }
        writeLock.withLock { _ in
            var offset = 0
            while offset < line.count {
                let written = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Replies are read on a thread of their own (blocking reads stay off the cooperative pool).
    private func startReading() {
        Thread.detachNewThread { self.readLoop() }
    }

    private func readLoop() {
        var reader = LineReader(maximumLength: 256 << 20)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var lastError: String?
        var malformed: String?
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            for case .line(let bytes) in reader.feed(buffer[..<count]) {
                let envelope: AdminEnvelope<AdminReply>
                do {
                    envelope = try AdminCodec.decode(AdminReply.self, from: bytes)
                } catch {
                    // A line that is not JSON means the peer is not a working parent: nothing
                    // it says can be trusted, so the connection ends with the reason.
                    if AdminCodec.isMalformedJSON(error) {
                        malformed = "the parent sent a malformed reply (\(AdminCodec.describe(error)))"
                        break reading
                    }
                    undecodable(bytes, error)
                    continue
                }
                if envelope.id == nil, case .error(let message) = envelope.body { lastError = message }
                deliver(envelope)
            }
        }
        shutdown(fd, Int32(SHUT_RDWR))
        // A parent's last word (an error without an id) is why requests still waiting fail.
        let failure: AdminClientError =
            if let malformed { .disconnected(malformed) } else if let lastError { .refused(lastError) } else {
                .disconnected("the parent closed the admin connection")
            }
        end(with: failure)
        state.withLock { state in
            state.socketClosed = true
            Glibc.close(fd)
        }
    }

    /// A JSON reply this client cannot read (an unknown `type` from a newer parent, a field
    /// of the wrong type): a request waiting for its one reply fails with the reason instead
    /// of waiting forever. A stream (a subscription, a log follow) skips a line of a type it
    /// does not know, so a newer parent's new kind of streamed line does not end an older
    /// client's stream; a known type it cannot read (a broken `logs-end`, say) ends it.
    private func undecodable(_ line: [UInt8], _ error: any Error) {
        let header = AdminCodec.header(ofLine: line)
        guard let id = header.id, let waiter = state.withLock({ $0.waiters[id] }) else { return }
        if case .stream = waiter, let type = header.type, !AdminReply.types.contains(type) { return }
        deliver(AdminEnvelope(id: id, .error(message: "the parent sent a reply this client cannot read: \(AdminCodec.describe(error))")))
    }

    private func deliver(_ envelope: AdminEnvelope<AdminReply>) {
        guard let id = envelope.id else {
            // Replies without an id (a `dropped` notice) concern every stream.
            let streams = state.withLock { $0.waiters.values.compactMap { if case .stream(let c, _) = $0 { c } else { nil } } }
            for stream in streams { stream.yield(envelope.body) }
            return
        }
        let waiter = state.withLock { state -> Waiter? in
            state.waiters[id]
        }
        switch waiter {
        case .once(let continuation):
            state.withLock { _ = $0.waiters.removeValue(forKey: id) }
            continuation.resume(returning: envelope.body)
        case .stream(let continuation, let endsAtLogsEnd):
            switch envelope.body {
            case .error(let message):
                continuation.finish(throwing: AdminClientError.refused(message))
            case .logsEnd where endsAtLogsEnd:
                continuation.yield(envelope.body)
                continuation.finish()
            case .runnerExited where !endsAtLogsEnd:
                // The runner's output is complete: a follow of it ends here (a backlog-only
                // request ends at its `logs-end`, which follows).
                continuation.yield(envelope.body)
                continuation.finish()
            default:
                continuation.yield(envelope.body)
            }
        case nil:
            break
        }
    }

    // MARK: - Finding a parent

    /// The socket to use: `explicit`, else `FLAME_ADMIN_SOCKET`, else the only live parent in
    /// the socket directory.
    public static func resolveSocket(_ explicit: String?) throws(AdminClientError) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let override = getenv(SocketLocation.overrideVariable).map({ String(cString: $0) }), !override.isEmpty { return override }
        let discovery = SocketLocation.discover()
        let live = discovery.parents.filter(\.isAlive)
        switch live.count {
        case 0:
            let looked = SocketLocation.directories().joined(separator: ", ")
            var reason = "no running flame parent has a socket there (start one, or pass --socket)"
            for refused in discovery.refused { reason += "; refused \(refused.directory): \(refused.problem)" }
            throw .cannotConnect(path: looked, reason: reason)
        case 1:
            return live[0].path
        default:
            let list = live.map { "  \($0.app) (pid \($0.pid)): \($0.path)" }.joined(separator: "\n")
            throw .ambiguous("several flame parents are running; choose one with --socket:\n\(list)")
        }
    }
}
