/// MQTT 5.0's layouts (OASIS MQTT 5.0, chapter 3): reason codes after packet identifiers, a
/// property block in every packet that may carry one. Checked as strictly as 3.1.1's.
extension PacketDecoder {
    static func decodeBodyV5(_ header: FixedHeader, _ reader: inout FieldReader) throws(PacketError) -> Packet {
        switch header.type {
        case .connect:
            return .connect(try decodeConnect(&reader))
        case .connack:
            let ackFlags = try reader.byte("acknowledge flags")
            guard ackFlags & 0xFE == 0 else { throw .invalidConnackFlags(ackFlags) } // MQTT-3.2.2-1
            let reason = ReasonCode(rawValue: try reader.byte("reason code"))
            guard reason == .success || reason.isFailure else { throw .invalidReasonCode(.connack, reason.rawValue) }
            if reason.isFailure && ackFlags != 0 { throw .invalidConnackFlags(ackFlags) } // MQTT-3.2.2-6
            let properties = try Properties.read(&reader, .connack)
            try expectEnd(reader)
            return .connack5(sessionPresent: ackFlags == 1, reason: reason, properties: ConnackProperties(properties))
        case .publish:
            let qosBits = (header.flags >> 1) & 0x03
            guard let qos = QoS(rawValue: qosBits) else { throw .invalidQoS(qosBits) }
            let dup = header.flags & 0x08 != 0
            if qos == .atMostOnce && dup { throw .invalidFlags(.publish, header.flags) } // MQTT-3.3.1-2
            let topic = try reader.lengthPrefixed("topic name")
            var packetID: UInt16 = 0
            if qos != .atMostOnce {
                packetID = try reader.uint16("packet identifier")
                guard packetID != 0 else { throw .zeroPacketID(.publish) }
            }
            let properties = try Properties.read(&reader, .publish)
            // An empty topic name stands for the one a Topic Alias names (3.3.2.3.4).
            if !(topic.isEmpty && properties.value(PropertyID.topicAlias) != nil), let problem = Topic.validateName(topic) {
                throw problem
            }
            if let response = properties.value(PropertyID.responseTopic), let problem = Topic.validateName(response) {
                throw problem // MQTT-3.3.2-14: a Topic Name, no wildcards
            }
            return .publish(
                PublishView(
                    topic: topic, payload: reader.rest(), qos: qos, retain: header.flags & 0x01 != 0, dup: dup,
                    packetID: packetID, properties: properties))
        case .puback, .pubrec, .pubrel, .pubcomp:
            let id = try reader.uint16("packet identifier")
            guard id != 0 else { throw .zeroPacketID(header.type) }
            // A remaining length of 2 means success and no properties (3.4.2.1).
            let reason = reader.isAtEnd ? ReasonCode.success : ReasonCode(rawValue: try reader.byte("reason code"))
            let properties = reader.isAtEnd ? Properties.none : try Properties.read(&reader, .acknowledgement)
            try expectEnd(reader)
            switch header.type {
            case .puback: return .puback(packetID: id, reason: reason, properties: properties)
            case .pubrec: return .pubrec(packetID: id, reason: reason, properties: properties)
            case .pubrel: return .pubrel(packetID: id)
            default: return .pubcomp(packetID: id)
            }
        case .subscribe:
            return try decodeSubscribe(&reader, v5: true)
        case .suback:
            return try decodeSuback(header, &reader, v5: true)
        case .unsubscribe:
            return try decodeUnsubscribe(&reader, v5: true)
        case .unsuback:
            let id = try reader.uint16("packet identifier")
            guard id != 0 else { throw .zeroPacketID(.unsuback) }
            _ = try Properties.read(&reader, .unsuback)
            guard !reader.isAtEnd else { throw .invalidRemainingLength(.unsuback, header.remainingLength) }
            _ = reader.rest() // one reason code per filter; this client does not act on them
            return .unsuback(packetID: id)
        case .pingreq, .pingresp:
            try expectLength(header, 0)
            return header.type == .pingreq ? .pingreq : .pingresp
        case .disconnect, .auth:
            // A remaining length of 0 means reason 0 and no properties (3.14.2.1, 3.15.2.1).
            let reason = reader.isAtEnd ? ReasonCode.success : ReasonCode(rawValue: try reader.byte("reason code"))
            let context: PropertyContext = header.type == .auth ? .auth : .disconnect
            let properties = reader.isAtEnd ? Properties.none : try Properties.read(&reader, context)
            try expectEnd(reader)
            if header.type == .auth { return .auth(reason: reason) }
            return .disconnect(reason: reason, properties: properties)
        }
    }

    static func decodeConnectV5(_ reader: inout FieldReader) throws(PacketError) -> ConnectOptions {
        let flags = try reader.byte("connect flags")
        let willFlag = flags & 0x04 != 0
        let willQoS = (flags >> 3) & 0x03
        let willRetain = flags & 0x20 != 0
        guard flags & 0x01 == 0, willQoS != 3, willFlag || (willQoS == 0 && !willRetain) else {
            throw .invalidConnectFlags(flags) // MQTT-3.1.2-3, -12, -11, -13
        }
        let keepAlive = try reader.uint16("keep alive")
        let properties = try Properties.read(&reader, .connect)
        var options = ConnectOptions(
            clientID: try reader.string("client identifier"), cleanSession: flags & 0x02 != 0, keepAlive: keepAlive)
        options.version = .v5
        options.sessionExpiry = properties.uint32(PropertyID.sessionExpiryInterval) ?? 0
        options.receiveMaximum = properties.uint16(PropertyID.receiveMaximum)
        options.maximumPacketSize = properties.uint32(PropertyID.maximumPacketSize)
        options.topicAliasMaximum = properties.uint16(PropertyID.topicAliasMaximum) ?? 0
        if willFlag {
            let willProperties = try Properties.read(&reader, .will)
            let topic = try reader.string("will topic")
            if let problem = Topic.validateName(topic) { throw problem }
            let payload = Array(try reader.lengthPrefixed("will payload", utf8: false))
            var will = Will(topic: topic, payload: payload, qos: QoS(rawValue: willQoS)!, retain: willRetain)
            will.delay = willProperties.uint32(PropertyID.willDelayInterval) ?? 0
            will.contentType = willProperties.string(PropertyID.contentType)
            options.will = will
        }
        // 5.0 allows a password without a user name (3.1.2.9).
        if flags & 0x80 != 0 { options.username = try reader.string("user name") }
        if flags & 0x40 != 0 { options.password = Array(try reader.lengthPrefixed("password", utf8: false)) }
        try expectEnd(reader)
        return options
    }

    private static func expectEnd(_ reader: FieldReader) throws(PacketError) {
        guard reader.isAtEnd else { throw .trailingBytes(reader.type, count: reader.remaining) }
    }
}
