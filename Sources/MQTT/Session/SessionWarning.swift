public enum SessionWarning: Equatable, CustomStringConvertible, Sendable {
    case unknownPacketID(PacketType, UInt16)
    /// A QoS 2 message answered with PUBACK: the broker delivers it at QoS 1 (at least once).
    case qos2Downgraded(UInt16)
    /// A 5.0 broker without retained messages (Retain Available 0): retained ones go unretained.
    case retainUnavailable
    /// A 5.0 broker whose Maximum QoS is 1: QoS 2 messages go at QoS 1.
    case maximumQoS1

    /// What kind of warning, without the details that vary (for counting repeats).
    public var kind: String {
        switch self {
        case .unknownPacketID(let type, _): "\(type) for a packet id not in flight"
        case .qos2Downgraded: "QoS 2 downgraded to 1 by the broker"
        case .retainUnavailable: "retained messages unavailable"
        case .maximumQoS1: "the broker's maximum QoS is 1"
        }
    }

    public var description: String {
        switch self {
        case .unknownPacketID(let type, let id):
            "broker sent \(type) for packet id \(id), which is not in flight; ignored"
        case .qos2Downgraded(let id):
            "broker answered the QoS 2 message \(id) with PUBACK: it downgrades QoS 2 to 1 (RabbitMQ does), so messages arrive at least once, not exactly once"
        case .retainUnavailable:
            "the broker keeps no retained messages (Retain Available 0): the status and state topics are sent unretained, so a subscriber sees them only when they change"
        case .maximumQoS1:
            "the broker's Maximum QoS is 1: QoS 2 messages are sent at QoS 1 and arrive at least once, not exactly once"
        }
    }
}
