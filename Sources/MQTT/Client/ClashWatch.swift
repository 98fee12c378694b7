import Syscalls

/// Notices another client using this client id. A broker that gets a second CONNECT with a client
/// id already connected closes the first connection (MQTT 3.1.1 section 3.1.4, step 2); two agents
/// with one id (a cloned SD card, a board left running elsewhere) then take the session from each
/// other on every reconnect, and MQTT 3.1.1 has no way to say why: each side sees only "connection
/// closed by the broker". The pattern is told apart by what it is: a connection the broker had
/// accepted is closed by it, and the very next connect to the same broker is accepted at once (the
/// broker is up and willing: someone else took the session), `threshold` times within `window`
/// (twice: two clashing boards must both say so within 30 s, while their backoffs grow).
/// A broker restart or a node failure closes the connection too, but the next connect then fails
/// or goes elsewhere; a refused message or policy closes within moments of the message going out
/// (PoisonWatch's case, which `settle` leaves to it). A 5.0 broker says it outright (reason 0x8E,
/// `takenOver`). No I/O.
public struct ClashWatch: Sendable {
    /// Takeovers within `window` that name a clash; one can be a broker that restarted at once.
    public var threshold = 2
    public var window: Nanoseconds = 120_000_000_000
    /// A close sooner than this after CONNACK is PoisonWatch's: the broker answering a message.
    public var settle: Nanoseconds = 500_000_000

    private var takeoverTimes: [Nanoseconds] = []
    /// A close by the broker waiting for the next connect to say whether it was a takeover.
    private var pending: Nanoseconds?
    /// A clash is being reported: from the connect that made `threshold` takeovers until a
    /// connection outlasts `window`.
    public private(set) var suspected = false
    /// Connections taken over by another client since start, for the metrics.
    public private(set) var takeovers: UInt64 = 0

    public init() {}

    /// A connection the broker had accepted ended at `now`, `connectedFor` after CONNACK, closed
    /// by the broker (`byPeer`) or otherwise.
    public mutating func connectionClosed(byPeer: Bool, connectedFor: Nanoseconds, now: Nanoseconds) {
        if connectedFor >= window {
            // A connection that held for a whole window: whatever was clashing stopped.
            takeoverTimes.removeAll(keepingCapacity: true)
            suspected = false
        }
        pending = byPeer && connectedFor >= settle ? now : nil
    }

    /// A connect failed, or went to another broker: the close before it was no takeover.
    public mutating func connectFailed() { pending = nil }

    /// The broker accepted a connect at `now`. True when this starts a clash episode (to report).
    public mutating func connected(now: Nanoseconds) -> Bool {
        guard let closedAt = pending else { return false }
        pending = nil
        takeovers += 1
        takeoverTimes.removeAll { now &- $0 > window }
        takeoverTimes.append(closedAt)
        guard takeoverTimes.count >= threshold, !suspected else { return false }
        suspected = true
        return true
    }

    /// A 5.0 broker said so (DISCONNECT with reason 0x8E, session taken over): no inference
    /// needed. True when this starts a clash episode (to report).
    public mutating func takenOver(now: Nanoseconds) -> Bool {
        pending = nil
        takeovers += 1
        takeoverTimes.removeAll { now &- $0 > window }
        takeoverTimes.append(now)
        guard !suspected else { return false }
        suspected = true
        return true
    }

    /// Takeovers within the last window (as of the last connect).
    public var recentTakeovers: Int { takeoverTimes.count }
}
