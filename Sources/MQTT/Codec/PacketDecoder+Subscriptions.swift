/// SUBSCRIBE, SUBACK and UNSUBSCRIBE in both versions: 5.0 adds a property block after the packet
/// id, options beside each filter's QoS, and reason codes in SUBACK (sections 3.8 to 3.10).
extension PacketDecoder {
    static func decodeSubscribe(_ reader: inout FieldReader, v5: Bool) throws(PacketError) -> Packet {
        let id = try reader.uint16("packet identifier")
        guard id != 0 else { throw .zeroPacketID(.subscribe) }
        if v5 { _ = try Properties.read(&reader, .subscribe) }
        var filters: [TopicSubscription] = []
        while !reader.isAtEnd {
            let filter = try reader.string("topic filter")
            if let problem = Topic.validateFilter(filter) { throw problem }
            let options = try reader.byte(v5 ? "subscription options" : "requested QoS")
            // 3.1.1: bits 7-2 reserved (MQTT-3.8.3-4). 5.0: bits 7-6 reserved (MQTT-3.8.3-5), retain
            // handling 3 invalid. QoS 3 is invalid in both.
            let valid = v5 ? options & 0xC0 == 0 && options >> 4 & 0x03 != 3 : options & 0xFC == 0
            guard valid, let qos = QoS(rawValue: options & 0x03) else { throw .invalidQoS(options) }
            filters.append(TopicSubscription(filter, qos: qos))
        }
        guard !filters.isEmpty else { throw .emptySubscription(.subscribe) }
        return .subscribe(packetID: id, filters: filters)
    }

    static func decodeSuback(_ header: FixedHeader, _ reader: inout FieldReader, v5: Bool) throws(PacketError) -> Packet {
        let id = try reader.uint16("packet identifier")
        guard id != 0 else { throw .zeroPacketID(.suback) }
        if v5 { _ = try Properties.read(&reader, .suback) }
        guard !reader.isAtEnd else { throw .invalidRemainingLength(.suback, header.remainingLength) }
        var results: [SubscribeResult] = []
        while !reader.isAtEnd {
            let code = try reader.byte("return code")
            switch code {
            case 0, 1, 2: results.append(.granted(QoS(rawValue: code)!))
            case 0x80 where !v5: results.append(.failure)
            case 0x80... where v5: results.append(.refused(ReasonCode(rawValue: code)))
            default: throw v5 ? .invalidReasonCode(.suback, code) : .invalidReturnCode(.suback, code) // MQTT-3.9.3-2
            }
        }
        return .suback(packetID: id, results: results)
    }

    static func decodeUnsubscribe(_ reader: inout FieldReader, v5: Bool) throws(PacketError) -> Packet {
        let id = try reader.uint16("packet identifier")
        guard id != 0 else { throw .zeroPacketID(.unsubscribe) }
        if v5 { _ = try Properties.read(&reader, .unsubscribe) }
        var filters: [String] = []
        while !reader.isAtEnd {
            let filter = try reader.string("topic filter")
            if let problem = Topic.validateFilter(filter) { throw problem }
            filters.append(filter)
        }
        guard !filters.isEmpty else { throw .emptySubscription(.unsubscribe) }
        return .unsubscribe(packetID: id, filters: filters)
    }
}
