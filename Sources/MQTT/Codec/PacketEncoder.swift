/// Encodes MQTT 3.1.1 and 5.0 control packets into a caller-owned `WireBuffer`. Nothing here allocates
/// unless the buffer has to grow. Requests that would break a protocol rule are refused with a
/// `PacketError` before a byte is written.
public enum PacketEncoder {
    static let protocolName: [UInt8] = Array("MQTT".utf8)

    // MARK: Client to broker

    /// CONNECT, section 3.1.
    public static func connect(_ options: ConnectOptions, into buffer: WireBuffer) throws(PacketError) {
        let clientID = Array(options.clientID.utf8)
        try checkString(clientID, field: "client identifier")
        let v5 = options.version == .v5
        let properties = v5 ? connectProperties(options) : []
        let willProperties = v5 ? options.will.map(willProperties) ?? [] : []
        var flags: UInt8 = 0
        var remaining = 2 + protocolName.count + 1 + 1 + 2 + 2 + clientID.count
        if v5 { remaining += MQTTLimits.remainingLengthSize(properties.count) + properties.count }
        if options.cleanSession { flags |= 0x02 }
        if let will = options.will {
            if let problem = Topic.validateName(will.topic) { throw problem }
            guard will.payload.count <= MQTTLimits.maxStringLength else {
                throw .stringTooLong(field: "will payload", length: will.payload.count)
            }
            flags |= 0x04 | will.qos.rawValue << 3 | (will.retain ? 0x20 : 0)
            remaining += 2 + will.topic.utf8.count + 2 + will.payload.count
            if v5 { remaining += MQTTLimits.remainingLengthSize(willProperties.count) + willProperties.count }
        }
        if let username = options.username {
            try checkString(Array(username.utf8), field: "user name")
            flags |= 0x80
            remaining += 2 + username.utf8.count
        }
        if let password = options.password {
            // MQTT-3.1.2-22: a password without a user name is not allowed (in 3.1.1; 5.0 allows it).
            guard options.username != nil || v5 else { throw .invalidConnectFlags(flags | 0x40) }
            guard password.count <= MQTTLimits.maxStringLength else {
                throw .stringTooLong(field: "password", length: password.count)
            }
            flags |= 0x40
            remaining += 2 + password.count
        }
        buffer.writeByte(PacketType.connect.rawValue << 4)
        buffer.writeRemainingLength(remaining)
        buffer.writeUInt16(UInt16(protocolName.count))
        buffer.writeBytes(protocolName)
        buffer.writeByte(options.version.rawValue)
        buffer.writeByte(flags)
        buffer.writeUInt16(options.keepAlive)
        if v5 { writeProperties(properties, into: buffer) }
        writeLengthPrefixed(clientID, into: buffer)
        if let will = options.will {
            if v5 { writeProperties(willProperties, into: buffer) }
            writeLengthPrefixed(Array(will.topic.utf8), into: buffer)
            writeLengthPrefixed(will.payload, into: buffer)
        }
        if let username = options.username { writeLengthPrefixed(Array(username.utf8), into: buffer) }
        if let password = options.password { writeLengthPrefixed(password, into: buffer) }
    }

    /// The size PUBLISH will take on the wire, or an error if it cannot be encoded. `propertiesLength`
    /// is nil under 3.1.1, else the length of the 5.0 property block (without its own length).
    public static func publishSize(topicLength: Int, payloadLength: Int, qos: QoS, propertiesLength: Int? = nil) throws(PacketError) -> Int
    {
        var remaining = 2 + topicLength + (qos == .atMostOnce ? 0 : 2) + payloadLength
        if let propertiesLength { remaining += MQTTLimits.remainingLengthSize(propertiesLength) + propertiesLength }
        guard remaining <= MQTTLimits.maxRemainingLength else { throw .payloadTooLarge(payloadLength) }
        return 1 + MQTTLimits.remainingLengthSize(remaining) + remaining
    }

    /// PUBLISH, section 3.3. `packetID` is ignored for QoS 0 and must be non-zero otherwise.
    public static func publish(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer,
        qos: QoS, retain: Bool, dup: Bool, packetID: UInt16,
        into buffer: WireBuffer
    ) throws(PacketError) {
        if let problem = Topic.validateName(topic) { throw problem }
        if qos != .atMostOnce && packetID == 0 { throw .zeroPacketID(.publish) }
        let size = try publishSize(topicLength: topic.count, payloadLength: payload.count, qos: qos)
        publish(validTopic: topic, payload: payload, qos: qos, retain: retain, dup: dup, packetID: packetID, size: size, into: buffer)
    }

    /// PUBLISH for a caller that has checked the topic name, the packet id and the size
    /// (`publishSize`) already: the session, which checks them before it takes a window slot.
    /// `properties` is nil under 3.1.1; under 5.0 the block goes after a Topic Alias, if `alias` is not 0.
    static func publish(
        validTopic topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool, dup: Bool,
        packetID: UInt16, size: Int, properties: UnsafeRawBufferPointer? = nil, alias: UInt16 = 0, into buffer: WireBuffer
    ) {
        let tail = buffer.writableTail(minimum: size)
        let written = publish(
            validTopic: topic, payload: payload, qos: qos, retain: retain, dup: dup, packetID: packetID, properties: properties,
            alias: alias, at: tail.baseAddress!)
        buffer.didWrite(written)
    }

    /// The PUBLISH layout (section 3.3), written at `base`, which must have room for the packet's
    /// size (`publishSize`, plus 3 with an alias); returns the bytes written. The session encodes
    /// straight into its window's arena and its outbound buffer with this: one pass, no checks of
    /// room per field.
    @inline(__always)
    static func publish(
        validTopic topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool, dup: Bool,
        packetID: UInt16, properties: UnsafeRawBufferPointer?, alias: UInt16, at base: UnsafeMutableRawPointer
    ) -> Int {
        // MQTT-3.3.1-2: DUP must be 0 for QoS 0.
        let dupBit: UInt8 = (dup && qos != .atMostOnce) ? 0x08 : 0
        base.storeBytes(of: PacketType.publish.rawValue << 4 | dupBit | qos.rawValue << 1 | (retain ? 1 : 0), as: UInt8.self)
        var remaining = 2 + topic.count + (qos == .atMostOnce ? 0 : 2) + payload.count
        let propertiesLength = properties.map { $0.count + (alias != 0 ? 3 : 0) } ?? 0
        if properties != nil { remaining += MQTTLimits.remainingLengthSize(propertiesLength) + propertiesLength }
        var offset = 1 + writeVariableInteger(remaining, at: base + 1)
        store(UInt16(topic.count), at: base + offset)
        offset += 2
        if !topic.isEmpty { (base + offset).copyMemory(from: topic.baseAddress!, byteCount: topic.count) }
        offset += topic.count
        if qos != .atMostOnce {
            store(packetID, at: base + offset)
            offset += 2
        }
        if let properties {
            offset += writeVariableInteger(propertiesLength, at: base + offset)
            if alias != 0 {
                base.storeBytes(of: PropertyID.topicAlias, toByteOffset: offset, as: UInt8.self)
                store(alias, at: base + offset + 1)
                offset += 3
            }
            if !properties.isEmpty { (base + offset).copyMemory(from: properties.baseAddress!, byteCount: properties.count) }
            offset += properties.count
        }
        if !payload.isEmpty { (base + offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        return offset + payload.count
    }

    @inline(__always)
    private static func store(_ value: UInt16, at p: UnsafeMutableRawPointer) {
        p.storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: 1, as: UInt8.self)
    }

    /// A Variable Byte Integer (the remaining length's encoding, section 2.2.3) at `p`; its size.
    @inline(__always)
    static func writeVariableInteger(_ value: Int, at p: UnsafeMutableRawPointer) -> Int {
        var value = value
        var n = 0
        repeat {
            var byte = UInt8(truncatingIfNeeded: value & 0x7F)
            value >>= 7
            if value > 0 { byte |= 0x80 }
            p.storeBytes(of: byte, toByteOffset: n, as: UInt8.self)
            n += 1
        } while value > 0
        return n
    }

    public static func publish(
        topic: String, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool,
        dup: Bool = false, packetID: UInt16, into buffer: WireBuffer
    ) throws(PacketError) {
        var topic = topic
        let result: PacketError? = topic.withUTF8 { utf8 in
            do throws(PacketError) {
                try publish(
                    topic: UnsafeRawBufferPointer(utf8), payload: payload, qos: qos, retain: retain,
                    dup: dup, packetID: packetID, into: buffer)
                return nil
            } catch { return error }
        }
        if let result { throw result }
    }

    /// PUBACK, PUBREC, PUBREL, PUBCOMP and UNSUBACK: a two-byte packet identifier (sections 3.4-3.7, 3.11).
    public static func acknowledgement(_ type: PacketType, packetID: UInt16, into buffer: WireBuffer) {
        switch type {
        case .puback, .pubrec, .pubrel, .pubcomp, .unsuback: break
        default: preconditionFailure("\(type) is not an acknowledgement")
        }
        buffer.writeByte(type.rawValue << 4 | (type.requiredFlags ?? 0))
        buffer.writeByte(2)
        buffer.writeUInt16(packetID)
    }

    /// SUBSCRIBE, section 3.8.
    /// Under 5.0 a property length of 0 follows the packet id, and the QoS byte is the Subscription
    /// Options byte (3.8.3.1) with its other options 0: retained messages are sent on every subscribe.
    public static func subscribe(
        packetID: UInt16, _ subscriptions: [TopicSubscription], version: ProtocolVersion = .v311,
        into buffer: WireBuffer
    ) throws(PacketError) {
        guard !subscriptions.isEmpty else { throw .emptySubscription(.subscribe) }
        guard packetID != 0 else { throw .zeroPacketID(.subscribe) }
        var remaining = version == .v5 ? 3 : 2
        for s in subscriptions {
            if let problem = Topic.validateFilter(s.filter) { throw problem }
            remaining += 2 + s.filter.utf8.count + 1
        }
        buffer.writeByte(PacketType.subscribe.rawValue << 4 | 0b0010)
        buffer.writeRemainingLength(remaining)
        buffer.writeUInt16(packetID)
        if version == .v5 { buffer.writeByte(0) }
        for s in subscriptions {
            writeLengthPrefixed(Array(s.filter.utf8), into: buffer)
            buffer.writeByte(s.qos.rawValue)
        }
    }

    /// UNSUBSCRIBE, section 3.10.
    public static func unsubscribe(
        packetID: UInt16, _ filters: [String], version: ProtocolVersion = .v311, into buffer: WireBuffer
    ) throws(PacketError) {
        guard !filters.isEmpty else { throw .emptySubscription(.unsubscribe) }
        guard packetID != 0 else { throw .zeroPacketID(.unsubscribe) }
        var remaining = version == .v5 ? 3 : 2
        for f in filters {
            if let problem = Topic.validateFilter(f) { throw problem }
            remaining += 2 + f.utf8.count
        }
        buffer.writeByte(PacketType.unsubscribe.rawValue << 4 | 0b0010)
        buffer.writeRemainingLength(remaining)
        buffer.writeUInt16(packetID)
        if version == .v5 { buffer.writeByte(0) }
        for f in filters { writeLengthPrefixed(Array(f.utf8), into: buffer) }
    }

    /// PINGREQ, PINGRESP and DISCONNECT: a fixed header and nothing else (under 5.0, a DISCONNECT
    /// with reason 0, normal disconnection: the broker discards the will).
    public static func empty(_ type: PacketType, into buffer: WireBuffer) {
        precondition([.pingreq, .pingresp, .disconnect].contains(type))
        buffer.writeByte(type.rawValue << 4)
        buffer.writeByte(0)
    }

    // MARK: Broker to client (for test brokers)

    public static func connack(sessionPresent: Bool, returnCode: ConnectReturnCode, into buffer: WireBuffer) {
        buffer.writeByte(PacketType.connack.rawValue << 4)
        buffer.writeByte(2)
        buffer.writeByte(sessionPresent ? 1 : 0)
        buffer.writeByte(returnCode.rawValue)
    }

    public static func suback(packetID: UInt16, _ results: [SubscribeResult], into buffer: WireBuffer) {
        buffer.writeByte(PacketType.suback.rawValue << 4)
        buffer.writeRemainingLength(2 + results.count)
        buffer.writeUInt16(packetID)
        for r in results {
            switch r {
            case .granted(let qos): buffer.writeByte(qos.rawValue)
            case .failure: buffer.writeByte(0x80)
            case .refused(let reason): buffer.writeByte(reason.rawValue)
            }
        }
    }

    // MARK: 5.0 property blocks

    private static func connectProperties(_ options: ConnectOptions) -> [UInt8] {
        var p = PropertyBuilder()
        if options.sessionExpiry != 0 { p.uint32(PropertyID.sessionExpiryInterval, options.sessionExpiry) }
        if let receive = options.receiveMaximum { p.uint16(PropertyID.receiveMaximum, receive) }
        if let size = options.maximumPacketSize { p.uint32(PropertyID.maximumPacketSize, size) }
        if options.topicAliasMaximum != 0 { p.uint16(PropertyID.topicAliasMaximum, options.topicAliasMaximum) }
        return p.bytes
    }

    private static func willProperties(_ will: Will) -> [UInt8] {
        var p = PropertyBuilder()
        if will.delay != 0 { p.uint32(PropertyID.willDelayInterval, will.delay) }
        if let type = will.contentType {
            p.byte(PropertyID.payloadFormatIndicator, 1)
            p.string(PropertyID.contentType, type)
        }
        return p.bytes
    }

    static func writeProperties(_ block: [UInt8], into buffer: WireBuffer) {
        buffer.writeRemainingLength(block.count)
        buffer.writeBytes(block)
    }

    // MARK: Fields

    private static func checkString(_ bytes: [UInt8], field: String) throws(PacketError) {
        guard bytes.count <= MQTTLimits.maxStringLength else { throw .stringTooLong(field: field, length: bytes.count) }
        guard !bytes.contains(0) else { throw .invalidUTF8(field: field) }
    }

    private static func writeLengthPrefixed(_ bytes: [UInt8], into buffer: WireBuffer) {
        buffer.writeUInt16(UInt16(bytes.count))
        buffer.writeBytes(bytes)
    }
}
