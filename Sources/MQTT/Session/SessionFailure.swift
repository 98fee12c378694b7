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
