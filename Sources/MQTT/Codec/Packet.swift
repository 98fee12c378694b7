/// MQTT 3.1.1 control packet types (section 2.2.1).
public enum PacketType: UInt8, Sendable, CustomStringConvertible {
    case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
    case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect

    public var description: String {
        switch self {
        case .connect: "CONNECT"
        case .connack: "CONNACK"
        case .publish: "PUBLISH"
        case .puback: "PUBACK"
        case .pubrec: "PUBREC"
        case .pubrel: "PUBREL"
        case .pubcomp: "PUBCOMP"
        case .subscribe: "SUBSCRIBE"
        case .suback: "SUBACK"
        case .unsubscribe: "UNSUBSCRIBE"
        case .unsuback: "UNSUBACK"
        case .pingreq: "PINGREQ"
        case .pingresp: "PINGRESP"
        case .disconnect: "DISCONNECT"
        }
    }

    /// The fixed-header flags each type must carry (section 2.2.2, table 2.2); PUBLISH's vary.
    var requiredFlags: UInt8? {
        switch self {
        case .publish: nil
        case .pubrel, .subscribe, .unsubscribe: 0b0010 // MQTT-3.6.1-1, MQTT-3.8.1-1, MQTT-3.10.1-1
        default: 0
        }
    }
}

public enum QoS: UInt8, Sendable, Comparable, CustomStringConvertible {
    case atMostOnce = 0, atLeastOnce = 1, exactlyOnce = 2
    public static func < (a: QoS, b: QoS) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "QoS \(rawValue)" }
}

/// CONNACK return codes (section 3.2.2.3). Values 6-255 are reserved and rejected by the decoder.
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
        case .unacceptableProtocolVersion: "broker refused: unacceptable protocol version (it does not speak MQTT 3.1.1)"
        case .identifierRejected: "broker refused: client identifier rejected"
        case .serverUnavailable: "broker refused: server unavailable"
        case .badUsernameOrPassword: "broker refused: bad user name or password"
        case .notAuthorized: "broker refused: not authorized"
        }
    }
}

/// One SUBACK return code per requested filter (section 3.9.3): the granted QoS or 0x80, failure.
public enum SubscribeResult: Equatable, Sendable {
    case granted(QoS)
    case failure
}

public struct Will: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = true) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// The variable header and payload of CONNECT (sections 3.1.2, 3.1.3).
public struct ConnectOptions: Equatable, Sendable {
    public var clientID: String
    public var cleanSession: Bool
    /// Seconds; 0 turns keep alive off (section 3.1.2.10).
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?

    public init(
        clientID: String, cleanSession: Bool = true, keepAlive: UInt16 = 60,
        will: Will? = nil, username: String? = nil, password: [UInt8]? = nil
    ) {
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
    }
}

/// An incoming PUBLISH, as views into the receive buffer: valid only while the handler that is
/// given it runs. Copy what must outlive it (`topicString`, `payloadBytes`).
public struct PublishView {
    public let topic: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    public let qos: QoS
    public let retain: Bool
    public let dup: Bool
    /// 0 for QoS 0.
    public let packetID: UInt16

    public var topicString: String { String(decoding: topic, as: UTF8.self) }
    public var payloadBytes: [UInt8] { Array(payload) }
}

/// The start of a PUBLISH too large to take in: its topic (a view into the input), QoS, DUP flag,
/// packet id and whole size.
public struct PublishHead {
    public let topic: UnsafeRawBufferPointer
    public let qos: QoS
    public let dup: Bool
    /// 0 for QoS 0.
    public let packetID: UInt16
    /// The whole packet, fixed header included.
    public let packetSize: Int

    public var topicString: String { String(decoding: topic, as: UTF8.self) }
}

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

public struct TopicSubscription: Equatable, Sendable {
    public var filter: String
    public var qos: QoS
    public init(_ filter: String, qos: QoS = .atLeastOnce) {
        self.filter = filter
        self.qos = qos
    }
}

/// Why bytes are not a valid MQTT 3.1.1 packet, or why a request cannot be encoded as one.
/// Thrown with typed throws so that the decoder's error path does not box.
public enum PacketError: Error, Equatable, CustomStringConvertible {
    case malformedRemainingLength
    case packetTooLarge(size: Int, limit: Int)
    case unknownPacketType(UInt8)
    case invalidFlags(PacketType, UInt8)
    case invalidRemainingLength(PacketType, Int)
    case truncated(PacketType, field: String)
    case trailingBytes(PacketType, count: Int)
    case invalidUTF8(field: String)
    case stringTooLong(field: String, length: Int)
    case invalidQoS(UInt8)
    case zeroPacketID(PacketType)
    case invalidTopicName(String)
    case invalidTopicFilter(String)
    case invalidReturnCode(PacketType, UInt8)
    case invalidProtocol(name: String, level: UInt8)
    case invalidConnectFlags(UInt8)
    /// CONNACK's acknowledge-flags byte: bits 7-1 reserved (MQTT-3.2.2-1), session present 0 on a refusal (MQTT-3.2.2-4).
    case invalidConnackFlags(UInt8)
    /// A SUBACK whose return codes do not match the SUBSCRIBE it answers (MQTT-3.9.3-1).
    case subackCountMismatch(packetID: UInt16, expected: Int, got: Int)
    case emptySubscription(PacketType)
    case payloadTooLarge(Int)

    public var description: String {
        switch self {
        case .malformedRemainingLength:
            "malformed remaining length: more than four bytes (MQTT 3.1.1 section 2.2.3)"
        case .packetTooLarge(let size, let limit):
            "packet of \(size) bytes exceeds the maximum incoming packet size of \(limit) bytes"
        case .unknownPacketType(let t):
            "unknown packet type \(t) (reserved values 0 and 15, section 2.2.1)"
        case .invalidFlags(let t, let f):
            "\(t) with invalid fixed-header flags 0x\(String(f, radix: 16)) (section 2.2.2)"
        case .invalidConnackFlags(let f):
            "CONNACK with invalid acknowledge flags 0x\(String(f, radix: 16)) (section 3.2.2.1: bits 7-1 are reserved, and a refusal has session present 0)"
        case .subackCountMismatch(let id, let expected, let got):
            "SUBACK for packet id \(id) has \(got) return code(s) for the \(expected) filter(s) subscribed (MQTT-3.9.3-1)"
        case .invalidRemainingLength(let t, let n):
            "\(t) with invalid remaining length \(n)"
        case .truncated(let t, let field):
            "\(t) truncated: \(field) runs past the end of the packet"
        case .trailingBytes(let t, let n):
            "\(t) has \(n) unexpected bytes after its last field"
        case .invalidUTF8(let field):
            "\(field) is not well-formed UTF-8 or contains U+0000 (MQTT-1.5.3-1, MQTT-1.5.3-2)"
        case .stringTooLong(let field, let n):
            "\(field) is \(n) bytes; MQTT strings hold at most 65535 (section 1.5.3)"
        case .invalidQoS(let q):
            "invalid QoS \(q) (MQTT-3.3.1-4)"
        case .zeroPacketID(let t):
            "\(t) with packet identifier 0 (MQTT-2.3.1-1)"
        case .invalidTopicName(let why):
            "invalid topic name: \(why)"
        case .invalidTopicFilter(let why):
            "invalid topic filter: \(why)"
        case .invalidReturnCode(let t, let c):
            "\(t) with reserved return code 0x\(String(c, radix: 16))"
        case .invalidProtocol(let name, let level):
            "unsupported protocol \(name) level \(level); expected MQTT level 4 (section 3.1.2.1)"
        case .invalidConnectFlags(let f):
            "invalid CONNECT flags 0x\(String(f, radix: 16)) (MQTT-3.1.2-3, -11, -13, -14, -15, -22)"
        case .emptySubscription(let t):
            "\(t) without any topic filter (MQTT-3.8.3-3, MQTT-3.10.3-2)"
        case .payloadTooLarge(let n):
            "payload of \(n) bytes does not fit in one MQTT packet (limit 268,435,455 bytes in all)"
        }
    }
}
