/// Why the session cannot go on over this connection; the driver closes it and reconnects.
public enum SessionFailure: Error, Equatable, CustomStringConvertible {
    case refused(ConnectReturnCode)
    /// A 5.0 CONNACK with a reason code of 0x80 or more.
    case rejected(BrokerReason)
    /// A 5.0 DISCONNECT from the broker.
    case disconnectedByBroker(BrokerReason)
    /// A 5.0 broker whose Maximum QoS is 0: this client's messages need QoS 1.
    case brokerTakesQoS0Only
    /// A 5.0 broker whose Maximum Packet Size is under `minimumBrokerPacketSize`.
    case brokerPacketLimit(stated: Int, needed: Int)
    case protocolViolation(PacketError)
    case unexpectedPacket(PacketType, whileState: String)
    case connackTimeout
    case keepAliveTimeout

    public var description: String {
        switch self {
        case .refused(let code): "\(code)"
        case .rejected(let reason): "broker refused the connection: \(reason)"
        case .disconnectedByBroker(let reason): "broker disconnected: \(reason)"
        case .brokerTakesQoS0Only: "the broker takes QoS 0 only (Maximum QoS 0), and this client publishes at QoS 1"
        case .brokerPacketLimit(let stated, let needed):
            "the broker's Maximum Packet Size is \(stated) bytes, under the \(needed) this client needs (a status, a reply)"
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

/// What a 5.0 broker says when it refuses or ends a connection: its reason code, and the Reason
/// String and Server Reference when it gives them.
public struct BrokerReason: Equatable, Sendable, CustomStringConvertible {
    public var code: ReasonCode
    public var reasonString: String?
    public var serverReference: String?

    public init(code: ReasonCode, reasonString: String? = nil, serverReference: String? = nil) {
        self.code = code
        self.reasonString = reasonString
        self.serverReference = serverReference
    }

    init(code: ReasonCode, _ properties: Properties) {
        self.init(
            code: code, reasonString: properties.string(PropertyID.reasonString),
            serverReference: properties.string(PropertyID.serverReference))
    }

    /// 0x9C or 0x9D with a Server Reference: the broker names the one to use instead.
    public var redirect: String? {
        guard code == .useAnotherServer || code == .serverMoved else { return nil }
        return serverReference
    }

    public var description: String {
        var text = "\(code)"
        // The broker's text is hostile too: quoted, and cut to what a log line can hold.
        if let reasonString { text += ": \(String(reasonString.prefix(200)).debugDescription)" }
        if let serverReference { text += "; use \(String(serverReference.prefix(200)).debugDescription) instead" }
        return text
    }
}
