/// 5.0 packets a broker sends, for the tests' brokers and the fuzz corpus: reason codes and
/// property blocks given as `PropertyBuilder` bytes.
extension PacketEncoder {
    public static func connack5(sessionPresent: Bool, reason: ReasonCode, properties: [UInt8] = [], into buffer: WireBuffer) {
        buffer.writeByte(PacketType.connack.rawValue << 4)
        buffer.writeRemainingLength(2 + MQTTLimits.remainingLengthSize(properties.count) + properties.count)
        buffer.writeByte(sessionPresent ? 1 : 0)
        buffer.writeByte(reason.rawValue)
        writeProperties(properties, into: buffer)
    }

    /// PUBACK, PUBREC, PUBREL or PUBCOMP with a reason code and properties (3.4.2).
    public static func acknowledgement5(
        _ type: PacketType, packetID: UInt16, reason: ReasonCode, properties: [UInt8] = [], into buffer: WireBuffer
    ) {
        precondition([.puback, .pubrec, .pubrel, .pubcomp].contains(type))
        buffer.writeByte(type.rawValue << 4 | (type.requiredFlags ?? 0))
        buffer.writeRemainingLength(3 + MQTTLimits.remainingLengthSize(properties.count) + properties.count)
        buffer.writeUInt16(packetID)
        buffer.writeByte(reason.rawValue)
        writeProperties(properties, into: buffer)
    }

    public static func suback5(packetID: UInt16, _ reasons: [ReasonCode], properties: [UInt8] = [], into buffer: WireBuffer) {
        buffer.writeByte(PacketType.suback.rawValue << 4)
        buffer.writeRemainingLength(2 + MQTTLimits.remainingLengthSize(properties.count) + properties.count + reasons.count)
        buffer.writeUInt16(packetID)
        writeProperties(properties, into: buffer)
        for reason in reasons { buffer.writeByte(reason.rawValue) }
    }

    public static func disconnect5(reason: ReasonCode, properties: [UInt8] = [], into buffer: WireBuffer) {
        buffer.writeByte(PacketType.disconnect.rawValue << 4)
        buffer.writeRemainingLength(1 + MQTTLimits.remainingLengthSize(properties.count) + properties.count)
        buffer.writeByte(reason.rawValue)
        writeProperties(properties, into: buffer)
    }

    /// A 5.0 PUBLISH with owned topic, payload and properties (a request with a Response Topic).
    public static func publish5(
        topic: String, payload: [UInt8], qos: QoS, packetID: UInt16, properties: [UInt8] = [], into buffer: WireBuffer
    ) {
        Array(topic.utf8).withUnsafeBytes { topic in
            payload.withUnsafeBytes { payload in
                properties.withUnsafeBytes { block in
                    let size = 1 + 4 + 2 + topic.count + 2 + 4 + block.count + payload.count
                    publish(
                        validTopic: topic, payload: payload, qos: qos, retain: false, dup: false, packetID: packetID, size: size,
                        properties: block, into: buffer)
                }
            }
        }
    }
}
