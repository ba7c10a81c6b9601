/// Requests one connection may make: `rate` a second on average, bursts of `burst` (a token
/// bucket). One connection sending thousands of requests cost the parent half a core.
struct RequestBudget<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var refilledAt: Instant

    init(rate: Double, burst: Double, now: Instant) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.refilledAt = now
    }

    /// Takes one request's token; false when the budget is spent.
    mutating func take(now: Instant) -> Bool {
        let elapsed = refilledAt.duration(to: now)
        tokens = Swift.min(burst, tokens + Swift.max(0, elapsed.seconds) * rate)
        refilledAt = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
