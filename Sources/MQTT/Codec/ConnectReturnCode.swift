/// MQTT 3.1.1's CONNACK return codes (section 3.2.2.3); 5.0 has reason codes instead (ReasonCode.swift). Values 6-255 are reserved and rejected by the decoder.
public enum ConnectReturnCode: UInt8, Sendable, CustomStringConvertible {
    case accepted = 0
    case unacceptableProtocolVersion = 1
    case identifierRejected = 2
    case serverUnavailable = 3
    case badUsernameOrPassword = 4
    case notAuthorized = 5

    public var description: String {
        switch self {
        case .accepted: "connection accepted"
        case .unacceptableProtocolVersion: "broker refused: unacceptable protocol version (it does not speak the version asked for)"
        case .identifierRejected: "broker refused: client identifier rejected"
        case .serverUnavailable: "broker refused: server unavailable"
        case .badUsernameOrPassword: "broker refused: bad user name or password"
        case .notAuthorized: "broker refused: not authorized"
        }
    }
}
