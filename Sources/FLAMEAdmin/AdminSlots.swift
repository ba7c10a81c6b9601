/// Who holds the admin server's client slots, when each must go, and whom a new client may
/// displace. Sans-IO: every event carries `now`; the server closes what it is told to.
///
/// A slot is `awaitingHello` from accept until the client's valid hello, then `greeted`. The
/// cap on slots holds, but an operator can always get in: when every slot is taken, a new
/// client displaces the oldest connection still awaiting its hello, else the greeted one
/// idle the longest with nothing streaming (no subscription, no log follow) and no request
/// for at least a second; only when every slot streams or works is it refused. A connection
/// without a hello after `helloTimeout`, or greeted, streaming nothing and silent for
/// `idleTimeout`, is closed.
struct AdminSlots<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    typealias ID = UInt64

    struct Limits: Sendable {
        var maximum: Int
        var helloTimeout: Duration
        var idleTimeout: Duration
    }

    enum Phase: Equatable, Sendable {
        case awaitingHello(since: Instant)
        case greeted
    }

    struct Slot: Sendable {
        var phase: Phase
        var lastActivity: Instant
        /// Subscriptions and log follows running for it.
        var streams = 0
    }

    enum Admission: Equatable, Sendable {
        /// In; `evicting` (with why, to tell it) must be closed to make room.
        case admitted(evicting: ID?, reason: String?)
        case refused(String)
    }

    /// A displaced connection must have been silent this long: one waiting for its reply is
    /// not idle.
    static var quietBeforeEviction: Duration { .seconds(1) }

    let limits: Limits
    private(set) var slots: [ID: Slot] = [:]

    init(limits: Limits) { self.limits = limits }

    var count: Int { slots.count }

    /// A new connection wants a slot.
    mutating func admit(_ id: ID, now: Instant) -> Admission {
        var evicting: (ID, String)?
        if slots.count >= limits.maximum {
            if let waiting = oldest(where: { if case .awaitingHello = $0.phase { true } else { false } }) {
                evicting = (waiting, "the admin server needed this slot for a new client, and this connection had not said hello")
            } else if let idle = oldest(where: { $0.streams == 0 && $0.lastActivity.advanced(by: Self.quietBeforeEviction) <= now }) {
                evicting = (idle, "the admin server needed this slot for a new client, and this connection was the longest idle")
            } else {
                return .refused("too many admin clients (\(limits.maximum)), each streaming or busy")
            }
            slots[evicting!.0] = nil
        }
        slots[id] = Slot(phase: .awaitingHello(since: now), lastActivity: now)
        return .admitted(evicting: evicting?.0, reason: evicting?.1)
    }

    /// The slot whose connection did the least recently, among those matching.
    private func oldest(where matches: (Slot) -> Bool) -> ID? {
        slots.filter { matches($0.value) }.min { ($0.value.lastActivity, $0.key) < ($1.value.lastActivity, $1.key) }?.key
    }

    /// Its hello was accepted.
    mutating func greeted(_ id: ID, now: Instant) {
        slots[id]?.phase = .greeted
        slots[id]?.lastActivity = now
    }

    /// It sent a request.
    mutating func active(_ id: ID, now: Instant) {
        slots[id]?.lastActivity = now
    }

    /// How many streams it runs now.
    mutating func streams(_ id: ID, count: Int, now: Instant) {
        slots[id]?.streams = count
        slots[id]?.lastActivity = now
    }

    /// It left (or was closed).
    mutating func remove(_ id: ID) {
        slots[id] = nil
    }

    /// The connections to close now, with why; they leave their slots.
    mutating func expire(now: Instant) -> [(id: ID, reason: String)] {
        var expired: [(ID, String)] = []
        for (id, slot) in slots {
            switch slot.phase {
            case .awaitingHello(let since) where since.advanced(by: limits.helloTimeout) <= now:
                expired.append((id, "no hello within \(limits.helloTimeout)"))
            case .greeted where slot.streams == 0 && slot.lastActivity.advanced(by: limits.idleTimeout) <= now:
                expired.append((id, "idle for \(limits.idleTimeout) with nothing subscribed"))
            default:
                continue
            }
        }
        for (id, _) in expired { slots[id] = nil }
        return expired.sorted { $0.0 < $1.0 }
    }
}
