/// What the session tells its driver while it processes incoming bytes.
public enum SessionEvent {
    case connected(sessionPresent: Bool)
    /// An application message from the broker; the view is valid only during the callback.
    case message(PublishView)
    /// The broker acknowledged an outgoing message: PUBACK for QoS 1, PUBCOMP for QoS 2.
    case delivered(packetID: UInt16)
    case subscribed(packetID: UInt16, results: [SubscribeResult])
    case unsubscribed(packetID: UInt16)
    /// A PUBLISH larger than `maxIncomingPacketSize`: acknowledged and skipped, not delivered. The
    /// view's topic is valid only during the callback; its payload is empty.
    case messageTooLarge(PublishHead)
    /// Something the broker should not have sent but that does not endanger the session, such as
    /// an acknowledgement for a packet id not in flight. Reported, then ignored.
    case warning(SessionWarning)
}

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

/// Why the session cannot go on over this connection; the driver closes it and reconnects.
public enum SessionFailure: Error, Equatable, CustomStringConvertible {
    case refused(ConnectReturnCode)
    case protocolViolation(PacketError)
    case unexpectedPacket(PacketType, whileState: String)
    case connackTimeout
    case keepAliveTimeout

    public var description: String {
        switch self {
        case .refused(let code): "\(code)"
        // A packet over our limit is valid MQTT: say what it is, not "malformed".
        case .protocolViolation(.packetTooLarge(let size, let limit)):
            "the broker sent a packet of \(size) bytes, over this client's limit of \(limit)"
        case .protocolViolation(let error): "malformed packet from broker: \(error)"
        case .unexpectedPacket(let type, let state): "broker sent \(type) while \(state)"
        case .connackTimeout: "no CONNACK from broker in time"
        case .keepAliveTimeout: "broker went silent: no PINGRESP in time"
        }
    }
}
