/// A decoded control packet. Packets a client receives (CONNACK, PUBLISH, acknowledgements) decode
/// without allocating, except a 5.0 CONNACK's properties (once a connection); those only a broker
/// receives (CONNECT, SUBSCRIBE, UNSUBSCRIBE) carry owned values, which the tests' fake broker uses.
/// Under 3.1.1 a reason code is `.success` and the properties are `.none`.
public enum Packet {
    case connect(ConnectOptions)
    /// A 3.1.1 CONNACK; also what a 3.1.1 broker answers a 5.0 CONNECT with (return code 1).
    case connack(sessionPresent: Bool, returnCode: ConnectReturnCode)
    case connack5(sessionPresent: Bool, reason: ReasonCode, properties: ConnackProperties)
    case publish(PublishView)
    case puback(packetID: UInt16, reason: ReasonCode, properties: Properties)
    case pubrec(packetID: UInt16, reason: ReasonCode, properties: Properties)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(packetID: UInt16, filters: [TopicSubscription])
    case suback(packetID: UInt16, results: [SubscribeResult])
    case unsubscribe(packetID: UInt16, filters: [String])
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect(reason: ReasonCode, properties: Properties)
    case auth(reason: ReasonCode)

    public var type: PacketType {
        switch self {
        case .connect: .connect
        case .connack, .connack5: .connack
        case .publish: .publish
        case .puback: .puback
        case .pubrec: .pubrec
        case .pubrel: .pubrel
        case .pubcomp: .pubcomp
        case .subscribe: .subscribe
        case .suback: .suback
        case .unsubscribe: .unsubscribe
        case .unsuback: .unsuback
        case .pingreq: .pingreq
        case .pingresp: .pingresp
        case .disconnect: .disconnect
        case .auth: .auth
        }
    }
}
