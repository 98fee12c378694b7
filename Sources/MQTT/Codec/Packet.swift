/// A decoded control packet. Packets a client receives (CONNACK, PUBLISH, acknowledgements) decode
/// without allocating; those only a broker receives (CONNECT, SUBSCRIBE, UNSUBSCRIBE) carry owned
/// values, which the tests' fake broker uses.
public enum Packet {
    case connect(ConnectOptions)
    case connack(sessionPresent: Bool, returnCode: ConnectReturnCode)
    case publish(PublishView)
    case puback(packetID: UInt16)
    case pubrec(packetID: UInt16)
    case pubrel(packetID: UInt16)
    case pubcomp(packetID: UInt16)
    case subscribe(packetID: UInt16, filters: [TopicSubscription])
    case suback(packetID: UInt16, results: [SubscribeResult])
    case unsubscribe(packetID: UInt16, filters: [String])
    case unsuback(packetID: UInt16)
    case pingreq
    case pingresp
    case disconnect

    public var type: PacketType {
        switch self {
        case .connect: .connect
        case .connack: .connack
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
        }
    }
}
