/// Why bytes are not a valid MQTT 3.1.1 or 5.0 packet, or why a request cannot be encoded as one.
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
    /// A Variable Byte Integer of more than four bytes (5.0 section 1.5.5).
    case malformedVariableInteger(PacketType, field: String)
    /// A 5.0 property the packet may not carry, or one whose value breaks its rule (section 2.2.2.2).
    case invalidProperty(PacketType, id: UInt8, String)
    /// A 5.0 reason code the packet may not carry (section 2.4).
    case invalidReasonCode(PacketType, UInt8)
    /// AUTH (5.0 section 3.15): this client announces no authentication method, so none may come.
    case unexpectedAuthentication

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
            "unsupported protocol \(name) level \(level); expected MQTT level 4 or 5 (section 3.1.2.1)"
        case .invalidConnectFlags(let f):
            "invalid CONNECT flags 0x\(String(f, radix: 16)) (MQTT-3.1.2-3, -11, -13, -14, -15, -22)"
        case .emptySubscription(let t):
            "\(t) without any topic filter (MQTT-3.8.3-3, MQTT-3.10.3-2)"
        case .malformedVariableInteger(let t, let field):
            "\(t): \(field) is a variable byte integer of more than four bytes (MQTT 5.0 section 1.5.5)"
        case .invalidProperty(let t, let id, let why):
            "\(t) property 0x\(String(id, radix: 16)): \(why) (MQTT 5.0 section 2.2.2.2)"
        case .invalidReasonCode(let t, let c):
            "\(t) with reason code 0x\(String(c, radix: 16)), which it may not carry (MQTT 5.0 section 2.4)"
        case .unexpectedAuthentication:
            "AUTH from a broker this client gave no authentication method (MQTT-4.12.0-6)"
        case .payloadTooLarge(let n):
            "payload of \(n) bytes does not fit in one MQTT packet (limit 268,435,455 bytes in all)"
        }
    }
}
