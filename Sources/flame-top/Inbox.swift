import FLAMEAdminClient
import FLAMEAdminProtocol
import FlameTopCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Actions produced by background tasks (snapshots, log lines, command results), collected
/// for the UI thread, which alone touches the model and the terminal.
final class Inbox: Sendable {
    private let actions = Mutex<[Action]>([])

    func post(_ action: Action) {
        actions.withLock { $0.append(action) }
    }

    func take() -> [Action] {
        actions.withLock { actions in
            defer { actions = [] }
            return actions
        }
    }
}

/// Seconds on a monotonic clock, the model's time base.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Keeps a connection to the parent: subscribes to snapshots, reconnects with backoff after a
/// loss, and performs the commands and log tails the UI asks for.
final class Link: Sendable {
    private struct State {
        var client: AdminClient?
        var interval = 1.0
        var subscription: Task<Void, Never>?
        var logs: Task<Void, Never>?
        var logRunner: String?
    }
    private let path: String
    private let inbox: Inbox
    private let state = Mutex(State())

    init(path: String, inbox: Inbox, interval: Double) {
        self.path = path
        self.inbox = inbox
        state.withLock { $0.interval = interval }
    }

    /// Connects and keeps connecting until the process ends.
    func run() async {
        var backoff = 0.5
        while !Task.isCancelled {
            do {
                let client = try await AdminClient.connect(path: path, client: "flame-top", timeout: .seconds(5))
                state.withLock { $0.client = client }
                if let hello = client.server { inbox.post(.connected(hello)) }
                backoff = 0.5
                if let runner = state.withLock({ $0.logRunner }) { tail(runner) }
                let interval = state.withLock { $0.interval }
                for try await reply in client.stream(.subscribe(snapshots: true, intervalMilliseconds: Int(interval * 1000), events: false)) {
                    if case .snapshot(let snapshot) = reply { inbox.post(.snapshot(snapshot, at: monotonicSeconds())) }
                    if state.withLock({ $0.interval }) != interval { break }  // resubscribe at the new rate
                }
                client.close()
            } catch {
                inbox.post(.disconnected(reason: describe(error), retryInSeconds: backoff, at: monotonicSeconds()))
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
                backoff = min(backoff * 2, 5)
            }
        }
    }

    private func describe(_ error: any Error) -> String {
        (error as? AdminClientError).map { "\($0)" } ?? "\(error)"
    }

    func setInterval(_ seconds: Double) {
        state.withLock { $0.interval = seconds }
    }

    /// Sends a command and posts its result for the status line.
    func send(_ request: AdminRequest) {
        guard let client = state.withLock({ $0.client }) else {
            inbox.post(.commandFinished(message: "not connected", isError: true, at: monotonicSeconds()))
            return
        }
        Task {
            do {
                let reply = try await client.request(request)
                let message = if case .ok(let text) = reply { text } else { "done" }
                inbox.post(.commandFinished(message: message, isError: false, at: monotonicSeconds()))
            } catch {
                inbox.post(.commandFinished(message: describe(error), isError: true, at: monotonicSeconds()))
            }
        }
    }

    /// Shows `runner`'s output (backlog, then follow); nil stops.
    func tail(_ runner: String?) {
        let (client, old) = state.withLock { state -> (AdminClient?, Task<Void, Never>?) in
            defer { state.logs = nil }
            state.logRunner = runner
            return (state.client, state.logs)
        }
        old?.cancel()
        guard let runner, let client else { return }
        let task = Task {
            do {
                for try await reply in client.stream(.logs(source: .runner(runner), lines: 500, follow: true)) {
                    if Task.isCancelled { break }
                    switch reply {
                    case .log(let line): self.inbox.post(.logLines([line], dropped: 0))
                    case .logsEnd(let dropped): self.inbox.post(.logLines([], dropped: dropped))
                    case .runnerExited(let runner, let reason):
                        self.inbox.post(.logLines([LogLine(source: runner, stream: nil, level: "error", line: "[\(runner) exited: \(reason)]")], dropped: 0))
                    default: break
                    }
                }
            } catch {
                self.inbox.post(.commandFinished(message: "logs: \(self.describe(error))", isError: true, at: monotonicSeconds()))
            }
        }
        state.withLock { $0.logs = task }
    }
}
