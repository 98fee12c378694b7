import Testing

@testable import MQTT

/// Encodes with `body` and returns the bytes.
func encoded(_ body: (WireBuffer) throws -> Void) rethrows -> [UInt8] {
    let buffer = WireBuffer(capacity: 16)
    try body(buffer)
    return buffer.readableArray()
}

func decode(_ bytes: [UInt8], max: Int = 1 << 20, version: ProtocolVersion = .v311) throws(PacketError) -> (packet: Packet, length: Int)? {
    let result = bytes.withUnsafeBytes { raw -> Result<(packet: Packet, length: Int)?, PacketError> in
        do throws(PacketError) { return .success(try PacketDecoder.decode(raw, version: version, maxPacketSize: max)) } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

func decodeError(_ bytes: [UInt8], max: Int = 1 << 20, version: ProtocolVersion = .v311) -> PacketError? {
    do throws(PacketError) { _ = try decode(bytes, max: max, version: version); return nil } catch { return error }
}

@Suite("Remaining length, section 2.2.3")
struct RemainingLengthTests {
    // The table of section 2.2.3: boundaries of one to four bytes.
    @Test(
        arguments: [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]),
            (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]),
            (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ] as [(Int, [UInt8])])
    func encodesBoundaries(length: Int, bytes: [UInt8]) {
        #expect(encoded { $0.writeRemainingLength(length) } == bytes)
        #expect(MQTTLimits.remainingLengthSize(length) == bytes.count)
    }

    @Test func decodesFourByteLengthAsTooLargeForLimit() {
        // PUBLISH with a 268,435,455-byte remaining length: refused by the size limit before any body is read.
        #expect(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0x7F], max: 1024) == .packetTooLarge(size: 268_435_460, limit: 1024))
    }

    @Test func fifthLengthByteIsMalformed() {
        #expect(decodeError([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) == .malformedRemainingLength)
    }

    @Test func partialLengthNeedsMoreBytes() throws {
        #expect(try decode([0x30, 0xFF]) == nil)
        #expect(try decode([0x30]) == nil)
        #expect(try decode([]) == nil)
    }
}

@Suite("CONNECT and CONNACK, sections 3.1 and 3.2")
struct ConnectTests {
    @Test func minimalConnect() throws {
        // Section 3.1.2: protocol name "MQTT", level 4, flags (clean session), keep alive 60, client id "a".
        let bytes = try encoded { try PacketEncoder.connect(ConnectOptions(clientID: "a", cleanSession: true, keepAlive: 60), into: $0) }
        #expect(bytes == [0x10, 13, 0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 0x61])
    }

    @Test func connectWithWillUserPassword() throws {
        let options = ConnectOptions(
            clientID: "c", cleanSession: false, keepAlive: 10,
            will: Will(topic: "t/s", payload: Array("off".utf8), qos: .atLeastOnce, retain: true),
            username: "u", password: [0x70, 0x77])
        let bytes = try encoded { try PacketEncoder.connect(options, into: $0) }
        // Flags 3.1.2.3: user name 0x80 | password 0x40 | will retain 0x20 | will QoS 1 0x08 | will 0x04 = 0xEC.
        #expect(bytes[9] == 0xEC)
        #expect(Array(bytes[12...]) == [0, 1, 0x63, 0, 3, 0x74, 0x2F, 0x73, 0, 3, 0x6F, 0x66, 0x66, 0, 1, 0x75, 0, 2, 0x70, 0x77])
        guard case .connect(let decoded) = try decode(bytes)?.packet else { Issue.record("not CONNECT"); return }
        #expect(decoded == options)
    }

    @Test func passwordWithoutUserNameIsRefused() {
        #expect(throws: PacketError.self) {
            try PacketEncoder.connect(ConnectOptions(clientID: "x", password: [1]), into: WireBuffer())
        }
    }

    @Test func connectWithReservedFlagIsMalformed() throws {
        var bytes = try encoded { try PacketEncoder.connect(ConnectOptions(clientID: "a"), into: $0) }
        bytes[9] |= 0x01 // MQTT-3.1.2-3
        #expect(decodeError(bytes) == .invalidConnectFlags(0x03))
    }

    @Test func connectWithWrongProtocolLevel() throws {
        var bytes = try encoded { try PacketEncoder.connect(ConnectOptions(clientID: "a"), into: $0) }
        bytes[8] = 3
        #expect(decodeError(bytes) == .invalidProtocol(name: "MQTT", level: 3))
    }

    @Test(
        arguments: [
            (0, ConnectReturnCode.accepted), (1, .unacceptableProtocolVersion), (2, .identifierRejected),
            (3, .serverUnavailable), (4, .badUsernameOrPassword), (5, .notAuthorized),
        ] as [(UInt8, ConnectReturnCode)])
    func connackReturnCodes(code: UInt8, expected: ConnectReturnCode) throws {
        guard case .connack(let present, let rc) = try decode([0x20, 0x02, 0x00, code])?.packet else {
            Issue.record("not CONNACK"); return
        }
        #expect(!present)
        #expect(rc == expected)
    }

    @Test func connackSessionPresent() throws {
        guard case .connack(let present, .accepted) = try decode([0x20, 0x02, 0x01, 0x00])?.packet else {
            Issue.record("not CONNACK"); return
        }
        #expect(present)
    }

    @Test func connackMalformed() {
        #expect(decodeError([0x20, 0x02, 0x00, 0x06]) == .invalidReturnCode(.connack, 6)) // reserved code
        #expect(decodeError([0x20, 0x02, 0x02, 0x00]) == .invalidConnackFlags(2)) // reserved ack flag bits, section 3.2.2.1
        #expect(decodeError([0x20, 0x02, 0x01, 0x05]) == .invalidConnackFlags(1)) // MQTT-3.2.2-4
        #expect(decodeError([0x20, 0x03, 0x00, 0x00, 0x00]) == .invalidRemainingLength(.connack, 3))
        #expect(decodeError([0x21, 0x02, 0x00, 0x00]) == .invalidFlags(.connack, 1)) // section 2.2.2
    }
}

@Suite("PUBLISH and its acknowledgements, sections 3.3 to 3.7")
struct PublishTests {
    @Test func qos0() throws {
        let bytes = try encoded { buf in
            try [UInt8]([1, 2]).withUnsafeBytes {
                try PacketEncoder.publish(topic: "a/b", payload: $0, qos: .atMostOnce, retain: false, packetID: 0, into: buf)
            }
        }
        // 3.3.1: type 3, no flags; 3.3.2: topic "a/b", no packet id for QoS 0.
        #expect(bytes == [0x30, 7, 0, 3, 0x61, 0x2F, 0x62, 1, 2])
        guard case .publish(let view) = try decode(bytes)?.packet else { Issue.record("not PUBLISH"); return }
        #expect(view.topicString == "a/b")
        #expect(view.payloadBytes == [1, 2])
        #expect(view.qos == .atMostOnce && view.packetID == 0 && !view.retain && !view.dup)
    }

    @Test func qos1RetainDup() throws {
        let bytes = try encoded { buf in
            try [UInt8]([9]).withUnsafeBytes {
                try PacketEncoder.publish(topic: "t", payload: $0, qos: .atLeastOnce, retain: true, dup: true, packetID: 0x1234, into: buf)
            }
        }
        #expect(bytes == [0x3B, 6, 0, 1, 0x74, 0x12, 0x34, 9])
        guard case .publish(let view) = try decode(bytes)?.packet else { Issue.record("not PUBLISH"); return }
        #expect(view.qos == .atLeastOnce && view.retain && view.dup && view.packetID == 0x1234)
    }

    @Test func qos2EmptyPayload() throws {
        let bytes = try encoded { buf in
            try PacketEncoder.publish(
                topic: "t", payload: UnsafeRawBufferPointer(start: nil, count: 0), qos: .exactlyOnce, retain: false, packetID: 1, into: buf)
        }
        #expect(bytes == [0x34, 5, 0, 1, 0x74, 0, 1])
    }

    @Test func refusesBadTopicsAndIds() {
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        let buffer = WireBuffer()
        #expect(throws: PacketError.invalidTopicName("contains a wildcard character (MQTT-3.3.2-2)")) {
            try PacketEncoder.publish(topic: "a/+", payload: empty, qos: .atMostOnce, retain: false, packetID: 0, into: buffer)
        }
        #expect(throws: PacketError.invalidTopicName("empty (MQTT-4.7.3-1)")) {
            try PacketEncoder.publish(topic: "", payload: empty, qos: .atMostOnce, retain: false, packetID: 0, into: buffer)
        }
        #expect(throws: PacketError.zeroPacketID(.publish)) {
            try PacketEncoder.publish(topic: "a", payload: empty, qos: .atLeastOnce, retain: false, packetID: 0, into: buffer)
        }
        #expect(buffer.isEmpty)
    }

    @Test func malformedPublish() {
        #expect(decodeError([0x36, 5, 0, 1, 0x74, 0, 1]) == .invalidQoS(3)) // MQTT-3.3.1-4
        #expect(decodeError([0x38, 3, 0, 1, 0x74]) == .invalidFlags(.publish, 8)) // DUP with QoS 0, MQTT-3.3.1-2
        #expect(decodeError([0x32, 5, 0, 1, 0x74, 0, 0]) == .zeroPacketID(.publish))
        #expect(decodeError([0x30, 4, 0, 5, 0x74, 0x74]) == .truncated(.publish, field: "topic name"))
        #expect(decodeError([0x32, 3, 0, 1, 0x74]) == .truncated(.publish, field: "packet identifier"))
        #expect(decodeError([0x30, 3, 0, 1, 0x23]) == .invalidTopicName("contains a wildcard character (MQTT-3.3.2-2)"))
        #expect(decodeError([0x30, 2, 0, 0]) == .invalidTopicName("empty (MQTT-4.7.3-1)"))
    }

    @Test(arguments: [
        [0xC0, 0x80] as [UInt8], // overlong encoding of U+0000
        [0x00], // U+0000, MQTT-1.5.3-2
        [0xED, 0xA0, 0x80], // surrogate U+D800, MQTT-1.5.3-1
        [0xE2, 0x82], // truncated sequence
        [0x80], // lone continuation byte
        [0xF4, 0x90, 0x80, 0x80], // beyond U+10FFFF
        [0xE0, 0x80, 0xAF], // overlong three-byte '/'
    ])
    func badUTF8Topics(topic: [UInt8]) {
        let bytes: [UInt8] = [0x30, UInt8(2 + topic.count), 0, UInt8(topic.count)] + topic
        #expect(decodeError(bytes) == .invalidUTF8(field: "topic name"))
    }

    @Test func goodUTF8Topic() throws {
        let topic = Array("température/ü/€/𝄞".utf8)
        let bytes: [UInt8] = [0x30, UInt8(2 + topic.count), 0, UInt8(topic.count)] + topic
        guard case .publish(let view) = try decode(bytes)?.packet else { Issue.record("not PUBLISH"); return }
        #expect(view.topicString == "température/ü/€/𝄞")
    }

    @Test(arguments: [(PacketType.puback, UInt8(0x40)), (.pubrec, 0x50), (.pubrel, 0x62), (.pubcomp, 0x70), (.unsuback, 0xB0)])
    func acknowledgements(type: PacketType, firstByte: UInt8) throws {
        let bytes = encoded { PacketEncoder.acknowledgement(type, packetID: 0xBEEF, into: $0) }
        #expect(bytes == [firstByte, 2, 0xBE, 0xEF])
        let packet = try #require(try decode(bytes)?.packet)
        #expect(packet.type == type)
        // Each must carry exactly two bytes and a non-zero id.
        #expect(decodeError([firstByte, 3, 0xBE, 0xEF, 0]) == .invalidRemainingLength(type, 3))
        #expect(decodeError([firstByte, 2, 0, 0]) == .zeroPacketID(type))
        #expect(decodeError([firstByte, 1, 0]) == .invalidRemainingLength(type, 1))
    }

    @Test func pubrelNeedsFlags0010() {
        #expect(decodeError([0x60, 2, 0, 1]) == .invalidFlags(.pubrel, 0)) // MQTT-3.6.1-1
        #expect(decodeError([0x41, 2, 0, 1]) == .invalidFlags(.puback, 1))
    }
}

@Suite("SUBSCRIBE, SUBACK, UNSUBSCRIBE, sections 3.8 to 3.11")
struct SubscribeTests {
    @Test func subscribe() throws {
        let bytes = try encoded {
            try PacketEncoder.subscribe(
                packetID: 10, [TopicSubscription("a/#", qos: .atLeastOnce), TopicSubscription("+/b", qos: .exactlyOnce)], into: $0)
        }
        #expect(bytes == [0x82, 14, 0, 10, 0, 3, 0x61, 0x2F, 0x23, 1, 0, 3, 0x2B, 0x2F, 0x62, 2])
        guard case .subscribe(let id, let filters) = try decode(bytes)?.packet else { Issue.record("not SUBSCRIBE"); return }
        #expect(id == 10 && filters == [TopicSubscription("a/#", qos: .atLeastOnce), TopicSubscription("+/b", qos: .exactlyOnce)])
    }

    @Test func subackWithFailure() throws {
        // Section 3.9.3: 0x80 is failure; 0, 1, 2 the granted QoS.
        guard case .suback(let id, let results) = try decode([0x90, 5, 0, 10, 0x01, 0x80, 0x02])?.packet else {
            Issue.record("not SUBACK"); return
        }
        #expect(id == 10 && results == [.granted(.atLeastOnce), .failure, .granted(.exactlyOnce)])
        #expect(decodeError([0x90, 3, 0, 10, 0x03]) == .invalidReturnCode(.suback, 3)) // MQTT-3.9.3-2
        #expect(decodeError([0x90, 2, 0, 10]) == .invalidRemainingLength(.suback, 2))
    }

    @Test func unsubscribe() throws {
        let bytes = try encoded { try PacketEncoder.unsubscribe(packetID: 7, ["a/b"], into: $0) }
        #expect(bytes == [0xA2, 7, 0, 7, 0, 3, 0x61, 0x2F, 0x62])
        guard case .unsubscribe(7, ["a/b"]) = try decode(bytes)?.packet else { Issue.record("not UNSUBSCRIBE"); return }
    }

    @Test(arguments: ["a/#/b", "a#", "a/b+", "", "#/a", "a/+b/c"])
    func invalidFilters(filter: String) {
        #expect(Topic.validateFilter(filter) != nil)
    }

    @Test(arguments: ["#", "+", "a/#", "+/+/c", "a//b", "/", "sport/+/player1", "$SYS/#"])
    func validFilters(filter: String) {
        #expect(Topic.validateFilter(filter) == nil)
    }

    @Test func matching() {
        // Section 4.7.1 examples.
        #expect(Topic.matches(filter: "sport/tennis/player1/#", topic: "sport/tennis/player1"))
        #expect(Topic.matches(filter: "sport/tennis/player1/#", topic: "sport/tennis/player1/ranking"))
        #expect(Topic.matches(filter: "sport/#", topic: "sport"))
        #expect(Topic.matches(filter: "sport/tennis/+", topic: "sport/tennis/player1"))
        #expect(!Topic.matches(filter: "sport/tennis/+", topic: "sport/tennis/player1/ranking"))
        #expect(!Topic.matches(filter: "sport/+", topic: "sport"))
        #expect(Topic.matches(filter: "+/+", topic: "/finance"))
        #expect(!Topic.matches(filter: "#", topic: "$SYS/uptime")) // MQTT-4.7.2-1
    }

    @Test func emptySubscriptionsAreRefused() {
        #expect(decodeError([0x82, 2, 0, 1]) == .emptySubscription(.subscribe)) // MQTT-3.8.3-3
        #expect(decodeError([0xA2, 2, 0, 1]) == .emptySubscription(.unsubscribe)) // MQTT-3.10.3-2
        #expect(decodeError([0x80, 2, 0, 1]) == .invalidFlags(.subscribe, 0)) // MQTT-3.8.1-1
    }

    @Test func subscribeRequestedQoSReservedBits() {
        #expect(decodeError([0x82, 6, 0, 1, 0, 1, 0x61, 0x04]) == .invalidQoS(4)) // MQTT-3.8.3-4
    }
}

@Suite("PINGREQ, PINGRESP, DISCONNECT, unknown types")
struct SmallPacketTests {
    @Test func emptyPackets() throws {
        #expect(encoded { PacketEncoder.empty(.pingreq, into: $0) } == [0xC0, 0])
        #expect(encoded { PacketEncoder.empty(.pingresp, into: $0) } == [0xD0, 0])
        #expect(encoded { PacketEncoder.empty(.disconnect, into: $0) } == [0xE0, 0])
        #expect(try decode([0xD0, 0])?.packet.type == .pingresp)
        #expect(decodeError([0xD0, 1, 0]) == .invalidRemainingLength(.pingresp, 1))
    }

    @Test func reservedTypes() {
        #expect(decodeError([0x00, 0]) == .unknownPacketType(0))
        #expect(decodeError([0xF0, 0]) == .unknownPacketType(15))
    }

    @Test func consumesOnePacketAtATime() throws {
        let two: [UInt8] = [0xD0, 0, 0x40, 2, 0, 1]
        let first = try #require(try decode(two))
        #expect(first.length == 2 && first.packet.type == .pingresp)
        let second = try #require(try decode(Array(two[first.length...])))
        #expect(second.length == 4 && second.packet.type == .puback)
    }

    @Test func errorsDescribeThemselves() {
        #expect(PacketError.malformedRemainingLength.description.contains("2.2.3"))
        #expect(PacketError.invalidQoS(3).description.contains("MQTT-3.3.1-4"))
    }
}

@Suite("Topic names, section 4.7")
struct TopicNameTests {
    /// The eight-bytes-at-a-time path agrees with the byte-by-byte rules on every kind of byte: NUL,
    /// the wildcards, high bytes that start or break UTF-8, at every position of names of every
    /// length around the word size.
    @Test func theFastPathAgreesWithTheRules() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x23, 0x2B, 0x2F, 0x41, 0x7A, 0x7F, 0x80, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xF0, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...40, using: &generator)
            var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            for _ in 0..<Int.random(in: 0...2, using: &generator) {
                bytes[Int.random(in: 0..<length, using: &generator)] = alphabet.randomElement(using: &generator)!
            }
            bytes.withUnsafeBytes { raw in
                let rules = !raw.contains(UInt8(ascii: "+")) && !raw.contains(UInt8(ascii: "#")) && MQTTUTF8.isValid(raw)
                #expect((Topic.validateName(raw) == nil) == rules, "\(bytes)")
                if Topic.isPlainASCIIName(raw) { #expect(rules, "\(bytes)") }
            }
        }
        "edge/kitchen-pi/telemetry/air".utf8CString.withUnsafeBytes { raw in
            #expect(Topic.isPlainASCIIName(UnsafeRawBufferPointer(rebasing: raw.dropLast())))
        }
    }
}
