/// Software debounce on edge events, sans-I/O (times are passed in), for chips whose interface
/// has no debounce setting (libgpiod 1.6's uAPI v1, IO expanders).
///
/// An edge starts a quiet period; every further edge restarts it. When the line has been quiet
/// for `interval`, its level is read once and reported if it differs from the last reported
/// level. So a bouncing contact gives one event, and a glitch that returns to the old level
/// within the interval gives none. The reported time is that of the first edge of the burst, as
/// given to `edge(at:)` (the agent gives the kernel's event time where the chip has one, and
/// stamps the event with it).
public struct Debouncer: Sendable {
    public let interval: UInt64
    public private(set) var reported: Bool
    /// When the current burst of edges settles, if one is under way.
    public private(set) var settlesAt: UInt64?
    private var burstStart: UInt64 = 0

    public init(interval: UInt64, initial: Bool) {
        self.interval = interval
        reported = initial
    }

    /// An edge seen at `time`.
    public mutating func edge(at time: UInt64) {
        if settlesAt == nil { burstStart = time }
        settlesAt = time + interval
    }

    /// Called at or after `settlesAt` with the line's current level: the change to report, if any.
    public mutating func settle(level: Bool, now: UInt64) -> (level: Bool, since: UInt64)? {
        guard let due = settlesAt, now >= due else { return nil }
        settlesAt = nil
        guard level != reported else { return nil }
        reported = level
        return (level, burstStart)
    }
}
