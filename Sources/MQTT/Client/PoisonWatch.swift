import Syscalls

/// Notices a message the broker refuses by closing the connection: a packet over its limit, a topic
/// its policy forbids (AWS IoT Core disconnects), a payload it cannot take. A persistent session
/// sends the oldest unacknowledged message first on every reconnect, so such a message would wedge
/// the connection forever. When the broker closes the connection `threshold` times in a row soon
/// after connecting, each time with the same message oldest and unacknowledged, that message is
/// the suspect to give up (the client parks it and tells its delegate). No I/O.
public struct PoisonWatch: Sendable {
    /// Closes in a row that condemn a message; one or two can be a broker restart or a flaky link.
    public var threshold = 3
    /// A connection closed later than this after CONNACK does not count against its oldest message.
    public var window: Nanoseconds = 10_000_000_000

    private var suspect: UInt16?
    private var closes = 0

    public init() {}

    /// The connection closed, `connectedFor` after CONNACK, by the broker (`byPeer`) or otherwise,
    /// with `oldest` the oldest message sent and unacknowledged. Returns the message to give up.
    public mutating func connectionClosed(byPeer: Bool, connectedFor: Nanoseconds, oldest: UInt16?) -> UInt16? {
        guard byPeer, connectedFor < window, let oldest else {
            suspect = nil
            closes = 0
            return nil
        }
        if suspect == oldest { closes += 1 } else { suspect = oldest; closes = 1 }
        guard closes >= threshold else { return nil }
        suspect = nil
        closes = 0
        return oldest
    }

    /// The broker acknowledged `id`: it was no poison.
    public mutating func delivered(_ id: UInt16) {
        if id == suspect { suspect = nil; closes = 0 }
    }

    /// Whether an error means the broker ended the connection (rather than a timeout or our side).
    public static func closedByBroker(_ error: ConnectionError) -> Bool {
        switch error {
        case .transport(.closedByPeer): return true
        case .transport(.system(_, let errno)): return errno == .connectionReset || errno == .brokenPipe
        case .transport(.tls): return true
        default: return false
        }
    }
}
