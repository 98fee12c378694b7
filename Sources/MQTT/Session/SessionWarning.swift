public enum SessionWarning: Equatable, CustomStringConvertible, Sendable {
    case unknownPacketID(PacketType, UInt16)
    /// A QoS 2 message answered with PUBACK: the broker delivers it at QoS 1 (at least once).
    case qos2Downgraded(UInt16)

    /// What kind of warning, without the details that vary (for counting repeats).
    public var kind: String {
        switch self {
        case .unknownPacketID(let type, _): "\(type) for a packet id not in flight"
        case .qos2Downgraded: "QoS 2 downgraded to 1 by the broker"
        }
    }

    public var description: String {
        switch self {
        case .unknownPacketID(let type, let id):
            "broker sent \(type) for packet id \(id), which is not in flight; ignored"
        case .qos2Downgraded(let id):
            "broker answered the QoS 2 message \(id) with PUBACK: it downgrades QoS 2 to 1 (RabbitMQ does), so messages arrive at least once, not exactly once"
        }
    }
}
