import Syscalls

/// What this connection may send, from the client's configuration and, under 5.0, what the broker
/// stated in CONNACK (section 3.2.2.3). A new connection starts from the configuration again.
public struct BrokerLimits: Equatable, Sendable {
    /// QoS 1 and 2 messages on the wire at once: the broker's Receive Maximum.
    public var sendQuota = Int.max
    /// The largest packet to send: the smaller of the configured limit and the broker's.
    public var maxPacketSize: Int?
    /// Where `maxPacketSize` comes from, for the messages that say it.
    public var maxPacketSizeFromBroker = false
    public var topicAliasMaximum: UInt16 = 0
    public var maximumQoS: QoS = .exactlyOnce
    public var retainAvailable = true
    /// Seconds; the broker's Server Keep Alive replaces the one asked for.
    public var keepAlive: UInt16
    public var assignedClientIdentifier: String?
    /// Seconds the broker keeps the session after this connection ends.
    public var sessionExpiry: UInt32

    init(_ configuration: SessionConfiguration) {
        maxPacketSize = BrokerLimits.smaller(configuration.maxOutgoingPacketSize, configuration.assumedOutgoingPacketSize)
        keepAlive = configuration.connect.keepAlive
        sessionExpiry = configuration.connect.sessionExpiry
    }

    mutating func apply(_ stated: ConnackProperties, configuration: SessionConfiguration) {
        sendQuota = Int(stated.receiveMaximum)
        if let brokers = stated.maximumPacketSize.map(Int.init) {
            // The broker's own limit replaces the assumed one; a limit the user set still applies.
            maxPacketSize = min(configuration.maxOutgoingPacketSize ?? Int.max, brokers)
            maxPacketSizeFromBroker = maxPacketSize == brokers
        }
        topicAliasMaximum = stated.topicAliasMaximum
        maximumQoS = QoS(rawValue: min(stated.maximumQoS, 2)) ?? .exactlyOnce
        retainAvailable = stated.retainAvailable
        if let serverKeepAlive = stated.serverKeepAlive { keepAlive = serverKeepAlive }
        assignedClientIdentifier = stated.assignedClientIdentifier
        if let expiry = stated.sessionExpiry { sessionExpiry = expiry }
    }
}

extension BrokerLimits {
    static func smaller(_ a: Int?, _ b: Int?) -> Int? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }
}

/// What a refused PUBLISH becomes (PUBACK or PUBREC with a reason code of 0x80 or more, 3.4.2.1).
public enum RefusalAction: Equatable, Sendable {
    /// The broker will never take this message: give it up (the agent parks it).
    case giveUp
    /// A condition that passes (a quota, an id clash): send it again after a pause, a few times.
    case retry

    public init(_ reason: ReasonCode) {
        switch reason {
        case .quotaExceeded, .packetIdentifierInUse, .serverBusy: self = .retry
        default: self = .giveUp // not authorized, topic name invalid, payload format invalid, unspecified
        }
    }

    /// Pauses before each retry: 1, 2, 4, 8 and 16 s, then the message is given up.
    public static let maxRetries = 5
    public static func pause(afterRetry retry: Int) -> Nanoseconds { 1_000_000_000 << UInt64(min(max(retry - 1, 0), 16)) }
}
