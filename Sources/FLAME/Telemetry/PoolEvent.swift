import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Something that happened to a pool, for operators (the admin socket's event stream).
public struct PoolEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case runnerBooted, runnerExited, bootFailed, scaled, drained, killed, callTimedOut
    }

    public var kind: Kind
    public var pool: String
    public var runner: String?
    /// What happened, for humans: the exit reason, the boot error, the new limits.
    public var message: String
    /// Wall-clock time, seconds since 1970.
    public var time: Double

    public init(kind: Kind, pool: String, runner: String? = nil, message: String, time: Double = wallClockSeconds()) {
        self.kind = kind
        self.pool = pool
        self.runner = runner
        self.message = message
        self.time = time
    }
}

/// Seconds since 1970, from CLOCK_REALTIME.
public func wallClockSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Fans pool events out to every subscriber of this process. A subscriber that does not
/// keep up loses the oldest events beyond its buffer, never slowing the pools.
public final class PoolEvents: Sendable {
    public static let shared = PoolEvents()

    private let subscribers = Mutex<[UInt64: AsyncStream<PoolEvent>.Continuation]>([:])
    private let nextID = Mutex<UInt64>(0)

    /// A stream of events from now on, buffering at most `buffer` undelivered ones.
    public func subscribe(buffer: Int = 1000) -> AsyncStream<PoolEvent> {
        let id = nextID.withLock { id in
            id += 1
            return id
        }
        let (stream, continuation) = AsyncStream<PoolEvent>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    func publish(_ event: PoolEvent) {
        let targets = subscribers.withLock { Array($0.values) }
        for target in targets { target.yield(event) }
    }
}

/// The pools alive in this process, in creation order, for the admin server.
public final class PoolRegistry: Sendable {
    public static let shared = PoolRegistry()

    private struct Entry: Sendable {
        weak let pool: Pool?
        let id: ObjectIdentifier
    }
    private let entries = Mutex<[Entry]>([])

    /// The live pools, oldest first.
    public var pools: [Pool] {
        entries.withLock { entries in
            entries.removeAll { $0.pool == nil }
            return entries.compactMap(\.pool)
        }
    }

    /// The live pool named `name`, if any.
    public func pool(named name: String) -> Pool? {
        pools.first { $0.name == name }
    }

    func register(_ pool: Pool) {
        entries.withLock { $0.append(Entry(pool: pool, id: ObjectIdentifier(pool))) }
    }

    func unregister(_ pool: Pool) {
        let id = ObjectIdentifier(pool)
        entries.withLock { $0.removeAll { $0.id == id || $0.pool == nil } }
    }
}
