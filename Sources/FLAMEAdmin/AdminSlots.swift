/// Who holds the admin server's client slots, when each must go, and whom a new client may
/// displace. Sans-IO: every event carries `now`; the server closes what it is told to.
///
/// A slot is `awaitingHello` from accept until the client's valid hello, then `greeted`. The
/// cap on slots holds, but an operator can get in: when every slot is taken, a new client
/// displaces, in this order, a connection still awaiting its hello (of the process holding
/// the most such slots, its oldest: a flood from one process does not displace an operator
/// whose hello is on its way), the greeted one idle the longest with nothing streaming (no
/// subscription, no log follow) and no request for at least a second, or a streaming one
/// that has not read what it was sent (backed up), the longest backed up; only when every
/// slot reads what it streams or works is it refused. A connection
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
        /// The peer's process (SO_PEERCRED).
        var pid: Int32 = 0
        /// Subscriptions and log follows running for it.
        var streams = 0
        /// Since when it has not read what it was sent (more than half its buffer waiting).
        var backedUpSince: Instant?
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
    mutating func admit(_ id: ID, pid: Int32 = 0, now: Instant) -> Admission {
        var evicting: (ID, String)?
        if slots.count >= limits.maximum {
            if let waiting = hellolessOfTheBiggestHolder() {
                evicting = (waiting, "the admin server needed this slot for a new client, and this connection had not said hello")
            } else if let idle = oldest(where: { $0.streams == 0 && $0.lastActivity.advanced(by: Self.quietBeforeEviction) <= now }) {
                evicting = (idle, "the admin server needed this slot for a new client, and this connection was the longest idle")
            } else if let stalled = slots.filter({ $0.value.backedUpSince != nil }).min(by: { ($0.value.backedUpSince!, $0.key) < ($1.value.backedUpSince!, $1.key) })?.key {
                evicting = (stalled, "the admin server needed this slot for a new client, and this connection had stopped reading")
            } else {
                return .refused("too many admin clients (\(limits.maximum)), each reading what it streams or busy")
            }
            slots[evicting!.0] = nil
        }
        slots[id] = Slot(phase: .awaitingHello(since: now), lastActivity: now, pid: pid)
        return .admitted(evicting: evicting?.0, reason: evicting?.1)
    }

    /// The oldest slot awaiting its hello, of the process holding the most such slots: a
    /// flood from one process displaces its own connections, not an operator's whose hello is
    /// on its way. (Protecting young connections instead was tried: a flood then kept every
    /// free slot young, and refused the operator.)
    private func hellolessOfTheBiggestHolder() -> ID? {
        let helloless = slots.filter { if case .awaitingHello = $0.value.phase { true } else { false } }
        guard !helloless.isEmpty else { return nil }
        var perPid: [Int32: Int] = [:]
        for slot in helloless.values { perPid[slot.pid, default: 0] += 1 }
        let biggest = perPid.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key
        return helloless.filter { $0.value.pid == biggest }.min { ($0.value.lastActivity, $0.key) < ($1.value.lastActivity, $1.key) }?.key
    }

    /// Whether it has stopped reading what it is sent.
    mutating func backedUp(_ id: ID, _ backedUp: Bool, now: Instant) {
        guard let slot = slots[id] else { return }
        if !backedUp {
            slots[id]?.backedUpSince = nil
        } else if slot.backedUpSince == nil {
            slots[id]?.backedUpSince = now
        }
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
