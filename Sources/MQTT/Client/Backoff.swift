import Syscalls

/// Reconnect delays: exponential growth from `minimum` to `maximum`, each delay drawn uniformly
/// between `minimum` and the current cap ("full jitter" with a floor), so a fleet of agents that
/// lost the same broker does not come back in lock step.
public struct ReconnectBackoff: Sendable {
    public var minimum: Nanoseconds
    public var maximum: Nanoseconds
    public private(set) var attempt: Int = 0

    public init(minimum: Nanoseconds = 1_000_000_000, maximum: Nanoseconds = 60_000_000_000) {
        self.minimum = max(minimum, 1_000_000)
        self.maximum = max(maximum, self.minimum)
    }

    /// The cap for the next delay.
    public var cap: Nanoseconds {
        let shift = min(attempt, 40)
        let (grown, overflow) = minimum.multipliedReportingOverflow(by: 1 << UInt64(shift))
        return overflow ? maximum : min(grown, maximum)
    }

    public mutating func nextDelay<R: RandomNumberGenerator>(using random: inout R) -> Nanoseconds {
        let cap = self.cap
        attempt += 1
        return cap == minimum ? minimum : UInt64.random(in: minimum...cap, using: &random)
    }

    public mutating func nextDelay() -> Nanoseconds {
        var random = SystemRandomNumberGenerator()
        return nextDelay(using: &random)
    }

    public mutating func reset() { attempt = 0 }
}
