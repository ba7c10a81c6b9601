public import FLAMEAdminProtocol

/// Everything flame-top shows, as a value. `update` changes it; `view` draws it.
public struct Model: Sendable, Equatable {
    public enum Connection: Sendable, Equatable {
        case connecting
        case connected
        /// Lost: the last data stays on screen, greyed, while reconnecting.
        case disconnected(reason: String, retryInSeconds: Double)
    }

    public enum Pane: Sendable, Equatable { case pools, runners, logs }

    public enum Dialog: Sendable, Equatable {
        case help
        case scale(ScaleForm)
        case confirm(Confirmation)
    }

    /// The scale form: prefilled with the pool's limits, validated before it is sent.
    public struct ScaleForm: Sendable, Equatable {
        public var pool: String
        public var min: String
        public var max: String
        /// 0: min, 1: max.
        public var field = 0
        public var error: String?
        /// The fields typed into (or erased from) so far: a digit typed into one still showing
        /// its prefilled value replaces it.
        public var edited: Set<Int> = []
    }

    /// A question before a drain or kill; `yes` is false until the operator chooses it.
    public struct Confirmation: Sendable, Equatable {
        public var title: String
        public var request: AdminRequest
        public var yes = false
    }

    public struct StatusMessage: Sendable, Equatable {
        public var text: String
        public var isError: Bool
        /// Seconds (model clock) after which it disappears.
        public var until: Double

        public init(text: String, isError: Bool, until: Double) {
            self.text = text
            self.isError = isError
            self.until = until
        }
    }

    /// The last minute of a pool's figures, one sample per snapshot.
    public struct History: Sendable, Equatable {
        public var queueDepth: [Int] = []
        public var p99Us: [UInt64] = []
        public var callsPerSecond: Double = 0
        var lastCompleted: Int?
        var lastTime: Double?
    }

    public enum RunnerSort: String, Sendable, CaseIterable {
        case id, state, cpu, rss, inFlight, completed, failed
    }

    public var app = "?"
    public var socketPath: String
    public var snapshot: Snapshot?
    /// When the last snapshot arrived (model clock), paused or not.
    public var lastSnapshotAt: Double?
    public var connection = Connection.connecting
    public var readOnly = false
    public var interval: Double = 1.0
    public var paused = false
    public var focus = Pane.pools
    public var selectedPool = 0
    public var selectedRunner = 0
    public var showLogs = false
    public var logLines: [LogLine] = []
    public var logDropped = 0
    public var follow = true
    /// Lines scrolled back from the newest when not following.
    public var logScroll = 0
    /// Fraction of the body given to the log pane.
    public var logSplit = 0.4
    public var filter = ""
    public var editingFilter = false
    public var runnerSort = RunnerSort.id
    public var dialog: Dialog?
    public var status: StatusMessage?
    public var history: [String: History] = [:]
    public var themeName = "default"
    /// The model clock (seconds), advanced by ticks and snapshots.
    public var now: Double = 0

    /// The refresh intervals `+` and `-` step through (seconds): inverse steps over the
    /// whole range `--interval` accepts.
    public static let intervalSteps: [Double] = [0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60]

    /// Connected, but no snapshot for several intervals: the parent may be stopped or hung,
    /// and what is shown is that old.
    public var isStale: Bool {
        guard connection == .connected, let lastSnapshotAt else { return false }
        return now - lastSnapshotAt > Swift.max(3 * interval, 2)
    }

    /// Seconds since the last snapshot.
    public var dataAge: Double { lastSnapshotAt.map { Swift.max(0, now - $0) } ?? 0 }
    /// Samples kept per sparkline.
    public static let historyLength = 60

    public init(socketPath: String, readOnly: Bool = false, interval: Double = 1.0) {
        self.socketPath = socketPath
        self.readOnly = readOnly
        self.interval = interval
    }

    /// Pools after the filter, as shown.
    public var visiblePools: [PoolSnapshot] {
        let pools = snapshot?.pools ?? []
        guard !filter.isEmpty else { return pools }
        return pools.filter { $0.name.localizedStandardContains(filter) || $0.runners.contains { $0.id.localizedStandardContains(filter) } }
    }

    public var currentPool: PoolSnapshot? {
        let pools = visiblePools
        return pools.indices.contains(selectedPool) ? pools[selectedPool] : pools.first
    }

    /// The selected pool's runners in the chosen order, then its exited runners whose output
    /// is kept (newest first, state `exited`, the reason as their last error): their logs stay
    /// readable with `l`.
    public var visibleRunners: [RunnerSnapshot] {
        let runners = currentPool?.runners ?? []
        let live: [RunnerSnapshot] =
            switch runnerSort {
            case .id: runners.sorted { $0.id.localizedStandardCompare($1.id) == .orderedAscending }
            case .state: runners.sorted { ($0.state, $0.id) < ($1.state, $1.id) }
            case .cpu: runners.sorted { $0.cpuPercent > $1.cpuPercent }
            case .rss: runners.sorted { $0.rssBytes > $1.rssBytes }
            case .inFlight: runners.sorted { $0.inFlight > $1.inFlight }
            case .completed: runners.sorted { $0.completed > $1.completed }
            case .failed: runners.sorted { $0.failed > $1.failed }
            }
        let exited = (currentPool?.exited ?? []).reversed().map { exited in
            RunnerSnapshot(
                id: exited.id, state: "exited", pid: nil, host: "-", cpuPercent: 0, rssBytes: 0, inFlight: 0, completed: 0, failed: 0,
                uptimeSeconds: 0, lastError: exited.reason)
        }
        return live + exited
    }

    public var currentRunner: RunnerSnapshot? {
        let runners = visibleRunners
        return runners.indices.contains(selectedRunner) ? runners[selectedRunner] : nil
    }
}

extension String {
    /// Case-insensitive containment without Foundation.
    func localizedStandardContains(_ other: String) -> Bool {
        lowercased().contains(other.lowercased())
    }

    /// Orders "p-2" before "p-10". Runner ids are `pool-N`: compared by prefix, then by the
    /// number after the last dash, without walking graphemes (it runs for every frame).
    func localizedStandardCompare(_ other: String) -> NaturalOrder {
        if let (prefix, number) = dashNumber, let (otherPrefix, otherNumber) = other.dashNumber {
            if !prefix.elementsEqual(otherPrefix) {
                return prefix.lexicographicallyPrecedes(otherPrefix) ? .orderedAscending : .orderedDescending
            }
            if number != otherNumber { return number < otherNumber ? .orderedAscending : .orderedDescending }
            return .orderedSame
        }
        let a = naturalKey, b = other.naturalKey
        if a == b { return .orderedSame }
        return a.lexicographicallyPrecedes(b) ? .orderedAscending : .orderedDescending
    }

    private var dashNumber: (Substring.UTF8View, Int)? {
        let bytes = utf8
        guard let dash = bytes.lastIndex(of: UInt8(ascii: "-")) else { return nil }
        var number = 0
        for byte in bytes[bytes.index(after: dash)...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), number < Int.max / 10 else { return nil }
            number = number * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return (self[..<dash].utf8, number)
    }

    private var naturalKey: [NaturalPart] {
        var parts: [NaturalPart] = []
        var digits = ""
        var letters = ""
        for character in self {
            if character.isNumber {
                if !letters.isEmpty { parts.append(.text(letters)); letters = "" }
                digits.append(character)
            } else {
                if !digits.isEmpty { parts.append(.number(Int(digits) ?? 0)); digits = "" }
                letters.append(character)
            }
        }
        if !letters.isEmpty { parts.append(.text(letters)) }
        if !digits.isEmpty { parts.append(.number(Int(digits) ?? 0)) }
        return parts
    }
}

enum NaturalOrder { case orderedAscending, orderedSame, orderedDescending }

enum NaturalPart: Comparable {
    case number(Int)
    case text(String)
}
