import Testing

@testable import MQTT

/// MQTT 5.0's layouts: properties (2.2.2), reason codes (2.4), and the checks on each.
@Suite("MQTT 5.0 codec")
struct CodecV5Tests {
    @Test func connectCarriesItsPropertiesAndTheWillsAndDecodesBack() throws {
        var options = ConnectOptions(clientID: "board-7", cleanSession: false, keepAlive: 30, username: nil, password: Array("pw".utf8))
        options.version = .v5
        options.sessionExpiry = 604_800
        options.receiveMaximum = 32
        options.maximumPacketSize = 1 << 20
        var will = Will(topic: "edge/board-7/status", payload: Array(#"{"state":"offline"}"#.utf8))
        will.delay = 30
        will.contentType = "application/json"
        options.will = will
        let bytes = try encoded { try PacketEncoder.connect(options, into: $0) }
        #expect(bytes[8] == 5) // protocol level
        guard case .connect(let back)? = try decode(bytes)?.packet else { Issue.record("not decoded"); return }
        #expect(back == options) // a password without a user name is fine in 5.0 (3.1.2.9)
    }

    @Test func connackStatesTheBrokersLimits() throws {
        var p = PropertyBuilder()
        p.uint16(PropertyID.receiveMaximum, 1)
        p.uint32(PropertyID.maximumPacketSize, 2048)
        p.uint16(PropertyID.topicAliasMaximum, 10)
        p.byte(PropertyID.maximumQoS, 1)
        p.byte(PropertyID.retainAvailable, 0)
        p.uint16(PropertyID.serverKeepAlive, 5)
        p.string(PropertyID.assignedClientIdentifier, "auto-1")
        p.userProperty("region", "eu")
        let bytes = encoded { PacketEncoder.connack5(sessionPresent: true, reason: .success, properties: p.bytes, into: $0) }
        guard case .connack5(true, .success, let stated)? = try decode(bytes, version: .v5)?.packet else {
            Issue.record("not decoded"); return
        }
        #expect(stated.receiveMaximum == 1)
        #expect(stated.maximumPacketSize == 2048)
        #expect(stated.topicAliasMaximum == 10)
        #expect(stated.maximumQoS == 1)
        #expect(stated.retainAvailable == false)
        #expect(stated.serverKeepAlive == 5)
        #expect(stated.assignedClientIdentifier == "auto-1")
    }

    @Test func aThreeOneOneRefusalOfAFiveConnectIsRead() throws {
        // A 3.1.1 broker answers a level-5 CONNECT with its own CONNACK, return code 1 (3.1.2.2).
        guard case .connack(false, .unacceptableProtocolVersion)? = try decode([0x20, 2, 0, 1], version: .v5)?.packet else {
            Issue.record("not read as 3.1.1's refusal"); return
        }
    }

    @Test func acknowledgementsCarryReasonsOrNot() throws {
        guard case .puback(7, .success, _)? = try decode([0x40, 2, 0, 7], version: .v5)?.packet else { Issue.record("short form"); return }
        var p = PropertyBuilder()
        p.string(PropertyID.reasonString, "topic denied by policy")
        let refusal = encoded {
            PacketEncoder.acknowledgement5(.puback, packetID: 9, reason: .notAuthorized, properties: p.bytes, into: $0)
        }
        guard case .puback(9, .notAuthorized, let properties)? = try decode(refusal, version: .v5)?.packet else {
            Issue.record("refusal"); return
        }
        #expect(properties.string(PropertyID.reasonString) == "topic denied by policy")
        // Reason only, no property length (3.4.2.2.1: allowed when there are none).
        guard case .puback(9, .quotaExceeded, _)? = try decode([0x40, 3, 0, 9, 0x97], version: .v5)?.packet else {
            Issue.record("reason only"); return
        }
    }

    @Test func publishPropertiesAreViews() throws {
        var p = PropertyBuilder()
        p.uint32(PropertyID.messageExpiryInterval, 2)
        p.string(PropertyID.responseTopic, "app/replies/42")
        p.data(PropertyID.correlationData, [1, 2, 3])
        p.userProperty("site", "north")
        let bytes = encoded {
            PacketEncoder.publish5(
                topic: "edge/b/cmd/ping", payload: Array("{}".utf8), qos: .atLeastOnce, packetID: 3, properties: p.bytes, into: $0)
        }
        try bytes.withUnsafeBytes { raw in
            guard case .publish(let view)? = try PacketDecoder.decode(raw, version: .v5)?.packet else {
                Issue.record("not decoded"); return
            }
            #expect(view.topicString == "edge/b/cmd/ping")
            #expect(Array(view.payload) == Array("{}".utf8))
            #expect(view.properties.uint32(PropertyID.messageExpiryInterval) == 2)
            #expect(view.properties.string(PropertyID.responseTopic) == "app/replies/42")
            #expect(view.properties.value(PropertyID.correlationData).map(Array.init) == [1, 2, 3])
            #expect(view.properties.userProperties.map { "\($0.name)=\($0.value)" } == ["site=north"])
        }
    }

    @Test func disconnectAndSubackReasons() throws {
        var p = PropertyBuilder()
        p.string(PropertyID.serverReference, "other.example:1884")
        let bytes = encoded { PacketEncoder.disconnect5(reason: .useAnotherServer, properties: p.bytes, into: $0) }
        guard case .disconnect(.useAnotherServer, let properties)? = try decode(bytes, version: .v5)?.packet else {
            Issue.record("disconnect"); return
        }
        #expect(properties.string(PropertyID.serverReference) == "other.example:1884")
        guard case .disconnect(.success, _)? = try decode([0xE0, 0], version: .v5)?.packet else { Issue.record("short"); return }
        let suback = encoded { PacketEncoder.suback5(packetID: 5, [.grantedQoS1, .notAuthorized], into: $0) }
        guard case .suback(5, let results)? = try decode(suback, version: .v5)?.packet else { Issue.record("suback"); return }
        #expect(results == [.granted(.atLeastOnce), .refused(.notAuthorized)])
    }

    // Every class of bad property block: each must be an error, never a trap or a pass.
    @Test(
        arguments: [
            // PUBACK id 1, reason 0x80, then a property block:
            ([0x40, 6, 0, 1, 0x80, 2, 0x7F, 0], "unknown identifier"),
            ([0x40, 6, 0, 1, 0x80, 2, 0x24, 1], "not allowed"), // Maximum QoS in a PUBACK
            ([0x40, 12, 0, 1, 0x80, 8, 0x1F, 0, 1, 0x61, 0x1F, 0, 1, 0x62], "more than once"), // two Reason Strings
            ([0x40, 7, 0, 1, 0x80, 3, 0x1F, 0, 9], "runs past"), // a string longer than the block
            ([0x40, 4, 0, 1, 0x80, 9], "runs past"), // a block longer than the packet
            ([0x40, 8, 0, 1, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "more than four bytes"), // a 5-byte property length
            ([0x40, 8, 0, 1, 0x80, 4, 0x1F, 0, 1, 0xFF], "UTF-8"),
        ] as [([UInt8], String)])
    func badPropertiesAreRefused(bytes: [UInt8], why: String) {
        let error = decodeError(bytes, version: .v5)
        #expect(error != nil)
        #expect(error.map { "\($0)" }?.contains(why) == true, "\(String(describing: error))")
    }

    @Test func propertyValuesOutOfRangeAreRefused() {
        // CONNACK with Receive Maximum 0 (3.2.2.3.3), and with Maximum Packet Size 0 (3.2.2.3.6).
        #expect(decodeError([0x20, 6, 0, 0, 3, 0x21, 0, 0], version: .v5) != nil)
        #expect(decodeError([0x20, 8, 0, 0, 5, 0x27, 0, 0, 0, 0], version: .v5) != nil)
        // Retain Available 2.
        #expect(decodeError([0x20, 5, 0, 0, 2, 0x25, 2], version: .v5) != nil)
        // A PUBLISH with an empty topic and no alias, and one whose Response Topic has a wildcard.
        #expect(decodeError([0x30, 3, 0, 0, 0], version: .v5) != nil)
        #expect(decodeError([0x30, 9, 0, 1, 0x74, 5, 0x08, 0, 2, 0x61, 0x23], version: .v5) != nil)
        // AUTH: type 15 exists in 5.0 only.
        #expect(decodeError([0xF0, 0]) == .unknownPacketType(15))
        guard case .auth(.success)? = try? decode([0xF0, 0], version: .v5)?.packet else { Issue.record("auth"); return }
    }
}
