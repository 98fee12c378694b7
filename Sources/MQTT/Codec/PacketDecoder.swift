/// Decodes MQTT 3.1.1 and 5.0 control packets from raw bytes (5.0's layouts: PacketDecoder+V5.swift). Every field is length-checked before it is
/// read; any violation is a `PacketError`, never a trap. Decoding a packet a client receives does
/// not allocate: PUBLISH topics and payloads are views into the input.
public enum PacketDecoder {
    /// Reads the fixed header, or returns nil when more bytes are needed to know the packet's size.
    /// Errors come as early as the bytes allow: an unknown type or bad flags on the first byte.
    public static func fixedHeader(
        _ bytes: UnsafeRawBufferPointer, maxPacketSize: Int, version: ProtocolVersion = .v311
    ) throws(PacketError) -> FixedHeader? {
        guard let first = bytes.first else { return nil }
        guard let type = PacketType(rawValue: first >> 4), type != .auth || version == .v5 else { throw .unknownPacketType(first >> 4) }
        let flags = first & 0x0F
        if let required = type.requiredFlags, flags != required { throw .invalidFlags(type, flags) }
        if type == .publish, (flags >> 1) & 0x03 == 3 { throw .invalidQoS(3) } // MQTT-3.3.1-4
        var value = 0
        var multiplier = 1
        var index = 1
        while true {
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            value += Int(byte & 0x7F) * multiplier
            index += 1
            if byte & 0x80 == 0 { break }
            guard index < 5 else { throw .malformedRemainingLength } // at most four bytes, section 2.2.3
            multiplier *= 128
        }
        let header = FixedHeader(type: type, flags: flags, remainingLength: value, headerLength: index)
        if header.packetLength > maxPacketSize { throw .packetTooLarge(size: header.packetLength, limit: maxPacketSize) }
        return header
    }

    /// Decodes one packet from the front of `bytes`. Returns nil when the packet is not complete yet,
    /// else the packet and how many bytes it took.
    public static func decode(
        _ bytes: UnsafeRawBufferPointer, version: ProtocolVersion = .v311, maxPacketSize: Int = MQTTLimits.maxRemainingLength + 5
    ) throws(PacketError) -> (packet: Packet, length: Int)? {
        guard let header = try fixedHeader(bytes, maxPacketSize: maxPacketSize, version: version) else { return nil }
        guard bytes.count >= header.packetLength else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: bytes[header.headerLength..<header.packetLength])
        let packet = try decodeBody(header, body, version: version)
        return (packet, header.packetLength)
    }

    /// The topic and packet id at the front of a PUBLISH, checked as `decode` checks them, without
    /// needing the payload; nil until those bytes are in.
    public static func publishHead(_ header: FixedHeader, _ bytes: UnsafeRawBufferPointer) throws(PacketError) -> PublishHead? {
        precondition(header.type == .publish)
        let qosBits = (header.flags >> 1) & 0x03
        guard let qos = QoS(rawValue: qosBits) else { throw .invalidQoS(qosBits) }
        let dup = header.flags & 0x08 != 0
        if qos == .atMostOnce && dup { throw .invalidFlags(.publish, header.flags) } // MQTT-3.3.1-2
        let start = header.headerLength
        guard bytes.count >= start + 2 else { return nil }
        let topicLength = Int(bytes[start]) << 8 | Int(bytes[start + 1])
        let idLength = qos == .atMostOnce ? 0 : 2
        guard 2 + topicLength + idLength <= header.remainingLength else { throw .truncated(.publish, field: "topic name") }
        guard bytes.count >= start + 2 + topicLength + idLength else { return nil }
        let topic = UnsafeRawBufferPointer(rebasing: bytes[(start + 2)..<(start + 2 + topicLength)])
        if let problem = Topic.validateName(topic) { throw problem }
        var packetID: UInt16 = 0
        if qos != .atMostOnce {
            packetID = UInt16(bytes[start + 2 + topicLength]) << 8 | UInt16(bytes[start + 3 + topicLength])
            guard packetID != 0 else { throw .zeroPacketID(.publish) }
        }
        return PublishHead(topic: topic, qos: qos, dup: dup, packetID: packetID, packetSize: header.packetLength)
    }

    static func decodeBody(_ header: FixedHeader, _ body: UnsafeRawBufferPointer, version: ProtocolVersion) throws(PacketError) -> Packet {
        var reader = FieldReader(bytes: body, type: header.type)
        // A CONNACK of two bytes is 3.1.1's, whatever was asked: a 3.1.1 broker refusing a 5.0 CONNECT.
        if version == .v5 && !(header.type == .connack && header.remainingLength == 2) {
            return try decodeBodyV5(header, &reader)
        }
        switch header.type {
        case .connect:
            return .connect(try decodeConnect(&reader))
        case .auth:
            throw .unknownPacketType(PacketType.auth.rawValue) // 3.1.1 reserves 15
        case .connack:
            try expectLength(header, 2)
            let ackFlags = try reader.byte("acknowledge flags")
            guard ackFlags & 0xFE == 0 else { throw .invalidConnackFlags(ackFlags) } // MQTT-3.2.2-1: bits 7-1 reserved
            let code = try reader.byte("return code")
            guard let returnCode = ConnectReturnCode(rawValue: code) else { throw .invalidReturnCode(.connack, code) }
            // MQTT-3.2.2-4: a refusal must carry session present 0.
            if returnCode != .accepted && ackFlags != 0 { throw .invalidConnackFlags(ackFlags) }
            return .connack(sessionPresent: ackFlags == 1, returnCode: returnCode)
        case .publish:
            let qosBits = (header.flags >> 1) & 0x03
            guard let qos = QoS(rawValue: qosBits) else { throw .invalidQoS(qosBits) }
            let dup = header.flags & 0x08 != 0
            if qos == .atMostOnce && dup { throw .invalidFlags(.publish, header.flags) } // MQTT-3.3.1-2
            let topic = try reader.lengthPrefixed("topic name")
            if let problem = Topic.validateName(topic) { throw problem }
            var packetID: UInt16 = 0
            if qos != .atMostOnce {
                packetID = try reader.uint16("packet identifier")
                guard packetID != 0 else { throw .zeroPacketID(.publish) }
            }
            return .publish(
                PublishView(
                    topic: topic, payload: reader.rest(), qos: qos,
                    retain: header.flags & 0x01 != 0, dup: dup, packetID: packetID, properties: .none))
        case .puback, .pubrec, .pubrel, .pubcomp, .unsuback:
            try expectLength(header, 2)
            let id = try reader.uint16("packet identifier")
            guard id != 0 else { throw .zeroPacketID(header.type) }
            switch header.type {
            case .puback: return .puback(packetID: id, reason: .success, properties: .none)
            case .pubrec: return .pubrec(packetID: id, reason: .success, properties: .none)
            case .pubrel: return .pubrel(packetID: id)
            case .pubcomp: return .pubcomp(packetID: id)
            default: return .unsuback(packetID: id)
            }
        case .subscribe:
            return try decodeSubscribe(&reader, v5: false)
        case .suback:
            return try decodeSuback(header, &reader, v5: false)
        case .unsubscribe:
            return try decodeUnsubscribe(&reader, v5: false)
        case .pingreq, .pingresp, .disconnect:
            try expectLength(header, 0)
            switch header.type {
            case .pingreq: return .pingreq
            case .pingresp: return .pingresp
            default: return .disconnect(reason: .success, properties: .none)
            }
        }
    }

    static func decodeConnect(_ reader: inout FieldReader) throws(PacketError) -> ConnectOptions {
        let name = try reader.string("protocol name")
        let level = try reader.byte("protocol level")
        guard name == "MQTT", let version = ProtocolVersion(rawValue: level) else { throw .invalidProtocol(name: name, level: level) }
        if version == .v5 { return try decodeConnectV5(&reader) }
        let flags = try reader.byte("connect flags")
        let willFlag = flags & 0x04 != 0
        let willQoS = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        let hasPassword = flags & 0x40 != 0
        let hasUsername = flags & 0x80 != 0
        guard flags & 0x01 == 0, // MQTT-3.1.2-3
            willQoS != 3, // MQTT-3.1.2-14
            willFlag || (willQoS == 0 && !willRetain), // MQTT-3.1.2-11, -13, -15
            hasUsername || !hasPassword // MQTT-3.1.2-22
        else { throw .invalidConnectFlags(flags) }
        let keepAlive = try reader.uint16("keep alive")
        var options = ConnectOptions(
            clientID: try reader.string("client identifier"),
            cleanSession: flags & 0x02 != 0, keepAlive: keepAlive)
        if willFlag {
            let topic = try reader.string("will topic")
            if let problem = Topic.validateName(topic) { throw problem }
            let payload = Array(try reader.lengthPrefixed("will message", utf8: false))
            options.will = Will(topic: topic, payload: payload, qos: QoS(rawValue: willQoS)!, retain: willRetain)
        }
        if hasUsername { options.username = try reader.string("user name") }
        if hasPassword { options.password = Array(try reader.lengthPrefixed("password", utf8: false)) }
        guard reader.isAtEnd else { throw .trailingBytes(.connect, count: reader.remaining) }
        return options
    }

    static func expectLength(_ header: FixedHeader, _ expected: Int) throws(PacketError) {
        guard header.remainingLength == expected else { throw .invalidRemainingLength(header.type, header.remainingLength) }
    }
}
