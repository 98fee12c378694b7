import Syscalls

/// Reconnect delays, each drawn uniformly between `minimum` and a cap ("full jitter" with a floor),
/// so a fleet of agents that lost the same broker does not come back in lock step. The cap starts
/// at twice the minimum and doubles with each delay up to `maximum` (`nextDelay`); a hop to another
/// broker or address keeps it where it is (`failoverDelay`), so that the clients of a node that
/// died are on the next one within a few seconds; and once every broker of a list of several has
/// failed in a row (the whole cluster is down) it goes to `maximum` at once (`widen`): when the
/// cluster comes back, the fleet's reconnects are spread over the whole window instead of arriving
/// together. A single broker keeps the doubling cap, so a board is back soon after its broker.
public struct ReconnectBackoff: Sendable {
    public var minimum: Nanoseconds
    public var maximum: Nanoseconds
    public private(set) var attempt: Int = 0

    public init(minimum: Nanoseconds = 1_000_000_000, maximum: Nanoseconds = 60_000_000_000) {
        self.minimum = max(minimum, 1_000_000)
        self.maximum = max(maximum, self.minimum)
    }

    /// The cap for the next delay.
    public var cap: Nanoseconds { cap(after: attempt) }

    private func cap(after attempts: Int) -> Nanoseconds {
        let shift = min(attempts + 1, 40)
        let (grown, overflow) = minimum.multipliedReportingOverflow(by: 1 << UInt64(shift))
        return overflow ? maximum : min(grown, maximum)
    }

    public mutating func nextDelay<R: RandomNumberGenerator>(using random: inout R) -> Nanoseconds {
        let cap = self.cap
        attempt += 1
        return draw(upTo: cap, using: &random)
    }

    public mutating func nextDelay() -> Nanoseconds {
        var random = SystemRandomNumberGenerator()
        return nextDelay(using: &random)
    }

    /// Before trying another broker or address of the same round: the first cap, not grown.
    public func failoverDelay() -> Nanoseconds {
        var random = SystemRandomNumberGenerator()
        return draw(upTo: cap(after: 0), using: &random)
    }

    private func draw<R: RandomNumberGenerator>(upTo cap: Nanoseconds, using random: inout R) -> Nanoseconds {
        cap == minimum ? minimum : UInt64.random(in: minimum...cap, using: &random)
    }

    /// Every broker failed in a row: from now on each delay is drawn over the whole window.
    public mutating func widen() { attempt = max(attempt, 40) }

    public mutating func reset() { attempt = 0 }
}
