import FLAMEWire
import Synchronization

/// What a runner must prove in its hello before it counts as booted.
struct RunnerExpectation: Sendable {
    var runnerID: String
    /// The per-runner secret handed to it in `FLAME_PARENT`.
    var token: String
    /// The build identity of the executable the parent expects it to run.
    var buildID: String
    /// Sent back in the welcome.
    var heartbeatInterval: Duration

    /// What the runner of `spec` must prove: a fresh token, and the build of `buildID`.
    init(for spec: RunnerSpec, buildID: String) {
        self.init(runnerID: spec.runnerID, token: ParentDescriptor.makeToken(), buildID: buildID, heartbeatInterval: spec.heartbeatInterval)
    }

    init(runnerID: String, token: String, buildID: String, heartbeatInterval: Duration) {
        self.runnerID = runnerID
        self.token = token
        self.buildID = buildID
        self.heartbeatInterval = heartbeatInterval
    }
}

/// Why a hello was refused, and whether the boot it claims to be fails with it.
struct HelloRefusal: Error, Sendable {
    var error: FLAMEError
    /// True when the peer proved the runner's token (so it is that runner, built wrong):
    /// the boot fails with this error. A peer without the token cannot end anyone's boot.
    var failsBoot: Bool
}

/// The runners a transport expects to hear from, by id, and the check of their hellos.
///
/// A listener keeps one table for every runner that may dial in; an adopted socketpair has
/// a table of its one runner. A runner is admitted once: a second hello for an id that is
/// already connected is a replay and is refused, as are unknown ids and wrong tokens.
final class RunnerAdmissions: Sendable {
    private struct Entry {
        var expectation: RunnerExpectation
        var delegate: any RunnerConnectionDelegate
        var connected = false
    }
    private let entries = Mutex<[String: Entry]>([:])

    /// Starts expecting the runner; `delegate` hears of its connection. Throws when another
    /// boot already expects that id (two pools of one name on one listener).
    func expect(_ expectation: RunnerExpectation, delegate: any RunnerConnectionDelegate) throws(FLAMEError) {
        let taken = entries.withLock { entries -> Bool in
            guard entries[expectation.runnerID] == nil else { return true }
            entries[expectation.runnerID] = Entry(expectation: expectation, delegate: delegate)
            return false
        }
        if taken {
            throw FLAMEError(
                .bootFailed,
                "runner id \(expectation.runnerID) is already taken on this listener: pools sharing a listener need distinct names")
        }
    }

    /// Stops expecting (or serving) `delegate`'s runner: its boot ended or it is gone.
    func withdraw(_ runnerID: String, of delegate: any RunnerConnectionDelegate) {
        entries.withLock { entries in
            if let entry = entries[runnerID], entry.delegate === delegate { entries[runnerID] = nil }
        }
    }

    /// How many runners are expected or connected.
    var count: Int { entries.withLock { $0.count } }

    /// Checks a hello; on success the runner counts as connected, and its expectation and
    /// delegate are returned.
    func admit(_ hello: RunnerHello) -> Result<(RunnerExpectation, any RunnerConnectionDelegate), HelloRefusal> {
        entries.withLock { entries in
            guard let entry = entries[hello.runnerID] else {
                return .failure(HelloRefusal(error: FLAMEError(.bootFailed, "unknown runner id \(quoted(hello.runnerID))"), failsBoot: false))
            }
            guard Self.constantTimeEqual(hello.token, entry.expectation.token) else {
                return .failure(HelloRefusal(error: FLAMEError(.bootFailed, "runner \(hello.runnerID) failed authentication (wrong token)"), failsBoot: false))
            }
            guard !entry.connected else {
                return .failure(HelloRefusal(error: FLAMEError(.bootFailed, "runner \(hello.runnerID) is already connected (replayed hello)"), failsBoot: false))
            }
            if hello.protocolVersion != runnerProtocolVersion {
                return .failure(HelloRefusal(error: FLAMEError(
                    .buildMismatch, "runner \(hello.runnerID) speaks protocol \(hello.protocolVersion), parent \(runnerProtocolVersion)"), failsBoot: true))
            }
            if hello.buildID != entry.expectation.buildID {
                return .failure(HelloRefusal(error: FLAMEError(
                    .buildMismatch,
                    "runner \(hello.runnerID) is build \(quoted(hello.buildID)) but the parent expects \(entry.expectation.buildID); "
                        + "parent and runners must run the same executable"), failsBoot: true))
            }
            entries[hello.runnerID]?.connected = true
            return .success((entry.expectation, entry.delegate))
        }
    }

    /// The delegate of an expected runner (to fail its boot when its token was proven).
    func delegate(of runnerID: String) -> (any RunnerConnectionDelegate)? {
        entries.withLock { $0[runnerID]?.delegate }
    }

    /// Compares two secrets in time that depends on their lengths only, not on where they
    /// first differ, so a peer cannot find a token byte by byte from response times.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = x.count == y.count ? 0 : 1
        for index in 0..<max(x.count, y.count) {
            let left = index < x.count ? x[index] : 0
            let right = index < y.count ? y[index] : 0
            difference |= Int(left ^ right)
        }
        return difference == 0
    }
}

/// A peer-supplied string for a log line: quoted, control characters escaped, at most 80
/// characters, so a hostile hello cannot forge log lines.
func quoted(_ text: String) -> String {
    let shown = text.unicodeScalars.prefix(80).map { scalar in
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: scalar.escaped(asASCII: true)
        default: String(scalar)
        }
    }
    return "\"" + shown.joined() + (text.unicodeScalars.count > 80 ? "…" : "") + "\""
}
