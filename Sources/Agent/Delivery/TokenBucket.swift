/// The backfill's rate limit: `rate` tokens a second, at most `capacity` saved up. Sans-I/O: the
/// caller passes the monotonic time in.
struct TokenBucket {
    let rate: Double
    let capacity: Double
    private var tokens: Double
    private var last: UInt64

    init(ratePerSecond: Int, capacity: Int, now: UInt64) {
        rate = Double(max(ratePerSecond, 1))
        self.capacity = Double(max(capacity, 1))
        tokens = self.capacity
        last = now
    }

    private mutating func refill(now: UInt64) {
        if now > last { tokens = min(capacity, tokens + Double(now - last) * rate / 1e9) }
        last = max(last, now)
    }

    /// Takes `count` tokens if there are that many; otherwise takes none.
    mutating func take(_ count: Int, now: UInt64) -> Bool {
        refill(now: now)
        guard tokens >= Double(count) else { return false }
        tokens -= Double(count)
        return true
    }

    /// When `count` tokens will be there (now, if they are).
    mutating func readyAt(_ count: Int, now: UInt64) -> UInt64 {
        refill(now: now)
        let missing = min(Double(count), capacity) - tokens
        return missing <= 0 ? now : now + UInt64((missing / rate * 1e9).rounded(.up))
    }
}
