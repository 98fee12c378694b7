import Syscalls
import Testing

@testable import MQTT

extension SessionHarness {
    /// A 5.0 session, connected with CONNACK carrying `stated`.
    static func v5(
        stated: (inout PropertyBuilder) -> Void = { _ in }, maxInflight: Int = 4,
        configure: (inout SessionConfiguration) -> Void = { _ in }
    ) throws -> SessionHarness {
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "test", cleanSession: false, keepAlive: 60))
        config.connect.version = .v5
        config.connect.sessionExpiry = 3600
        config.maxInflight = maxInflight
        config.inflightArenaBytes = 4096
        configure(&config)
        let h = SessionHarness(configuration: config)
        try h.session.connectionOpened(now: 0)
        #expect(h.sentTypes() == [.connect])
        var p = PropertyBuilder()
        stated(&p)
        try h.feed(encoded { PacketEncoder.connack5(sessionPresent: false, reason: .success, properties: p.bytes, into: $0) })
        return h
    }

    func ack(_ id: UInt16, _ reason: ReasonCode, text: String? = nil, now: Nanoseconds = 0) throws {
        var p = PropertyBuilder()
        if let text { p.string(PropertyID.reasonString, text) }
        try feed(encoded { PacketEncoder.acknowledgement5(.puback, packetID: id, reason: reason, properties: p.bytes, into: $0) }, now: now)
    }
}

@Suite("Session under MQTT 5.0")
struct SessionV5Tests {
    @Test func aRefusedMessageIsGivenUpAtOnceWithItsReason() throws {
        let h = try SessionHarness.v5()
        let id = try h.publish("denied")
        _ = h.sent()
        try h.ack(id, .notAuthorized, text: "policy")
        #expect(h.events.last == "refused(\(id),135,policy,denied)")
        #expect(h.delivered.isEmpty)
        #expect(h.session.inflightCount == 0)
        #expect(h.session.state == .connected) // no disconnect needed
    }

    @Test func aQuotaRefusalIsRetriedAfterAPauseThenGivenUp() throws {
        let h = try SessionHarness.v5()
        let id = try h.publish("later")
        _ = h.sent()
        var now: Nanoseconds = 0
        for retry in 1...RefusalAction.maxRetries {
            try h.ack(id, .quotaExceeded, now: now)
            #expect(h.events.last == "retrying(\(id),151,\(retry))")
            #expect(h.sent().isEmpty) // not at once
            let pause = RefusalAction.pause(afterRetry: retry)
            #expect(h.session.nextDeadline() == now + pause)
            now += pause
            try h.session.tick(now: now)
            let again = h.sentPublishes()
            #expect(again.map(\.id) == [id])
            #expect(again.first?.dup == false) // a new delivery: the broker ended the last one
        }
        try h.ack(id, .quotaExceeded, now: now)
        #expect(h.events.last == "refused(\(id),151,-,later)")
        #expect(h.session.inflightCount == 0)
    }

    @Test func receiveMaximumBoundsWhatIsOnTheWire() throws {
        let h = try SessionHarness.v5(stated: { $0.uint16(PropertyID.receiveMaximum, 1) })
        let a = try h.publish("a")
        let b = try h.publish("b")
        let c = try h.publish("c")
        #expect(h.sentPublishes().map(\.id) == [a]) // b and c wait in the window
        try h.ack(a, .success)
        #expect(h.sentPublishes().map(\.id) == [b])
        try h.ack(b, .noMatchingSubscribers) // below 0x80: delivered
        #expect(h.sentPublishes().map(\.id) == [c])
        #expect(h.delivered == [a, b])
    }

    @Test func aReconnectResendsNoMoreThanTheNewReceiveMaximum() throws {
        let h = try SessionHarness.v5(maxInflight: 8)
        let ids = try (0..<5).map { try h.publish("m\($0)") }
        _ = h.sent()
        h.session.connectionClosed()
        try h.session.connectionOpened(now: 0)
        _ = h.sent()
        var p = PropertyBuilder()
        p.uint16(PropertyID.receiveMaximum, 2)
        try h.feed(encoded { PacketEncoder.connack5(sessionPresent: true, reason: .success, properties: p.bytes, into: $0) })
        let resent = h.sentPublishes()
        #expect(resent.map(\.id) == Array(ids[0..<2]))
        #expect(resent.allSatisfy { $0.dup })
        try h.ack(ids[0], .success)
        #expect(h.sentPublishes().map(\.id) == [ids[2]])
    }

    /// A failover to a broker of the other version: what waits in the window goes in that one's
    /// layout (a 5.0 PUBLISH would be malformed to a 3.1.1 broker), and the other way round.
    @Test func messagesQueuedUnderOneVersionGoInTheOther() throws {
        let h = try SessionHarness.v5()
        let a = try h.publish("five")
        _ = h.sent()
        h.session.connectionClosed()
        try h.session.connectionOpened(now: 0, version: .v311)
        _ = h.sent()
        try h.feed([0x20, 2, 1, 0]) // a 3.1.1 CONNACK, session present
        let resent = h.sentPublishes() // decoded as 3.1.1: a 5.0 layout would not parse
        #expect(resent.map(\.id) == [a] && resent.first?.payload == Array("five".utf8) && resent.first?.dup == true)
        let b = try h.publish("three") // stored in 3.1.1's layout
        _ = h.sent()
        h.session.connectionClosed()
        try h.session.connectionOpened(now: 0, version: .v5)
        _ = h.sent()
        try h.feed(encoded { PacketEncoder.connack5(sessionPresent: true, reason: .success, into: $0) })
        let back = h.sentPublishes() // decoded as 5.0
        #expect(back.map(\.id) == [a, b])
        #expect(back.map(\.payload) == [Array("five".utf8), Array("three".utf8)])
    }

    @Test func theBrokersMaximumPacketSizeIsObeyed() throws {
        let h = try SessionHarness.v5(stated: { $0.uint32(PropertyID.maximumPacketSize, 64) }) { $0.assumedOutgoingPacketSize = 128 * 1024 }
        #expect(h.session.limits.maxPacketSize == 64)
        #expect(throws: PublishRefusal.tooLarge(size: 108, limit: 64)) { try h.publish(String(repeating: "x", count: 100)) }
        #expect(try h.publish("small") != 0)
    }

    @Test func aMessageQueuedBeforeASmallerLimitIsRefusedNotSent() throws {
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "test", cleanSession: false))
        config.connect.version = .v5
        config.inflightArenaBytes = 4096
        let h = SessionHarness(configuration: config)
        let big = try h.publish(String(repeating: "x", count: 100)) // queued while disconnected
        let small = try h.publish("ok")
        try h.session.connectionOpened(now: 0)
        _ = h.sent()
        var p = PropertyBuilder()
        p.uint32(PropertyID.maximumPacketSize, 64)
        try h.feed(encoded { PacketEncoder.connack5(sessionPresent: false, reason: .success, properties: p.bytes, into: $0) })
        #expect(h.events.contains { $0.hasPrefix("refused(\(big),149,") })
        #expect(h.sentPublishes().map(\.id) == [small])
    }

    @Test func topicAliasesReplaceRepeatedNamesOnOneConnectionOnly() throws {
        let h = try SessionHarness.v5(stated: { $0.uint16(PropertyID.topicAliasMaximum, 2) })
        let aliased = MessageProperties.json(aliasable: true)
        func send(_ topic: String) throws -> UInt16 {
            try [UInt8]("1".utf8).withUnsafeBytes {
                try h.session.publish(topic: topic, payload: $0, qos: .atLeastOnce, properties: aliased, now: 0)
            }
        }
        var aliases: [(String, UInt16?)] = []
        func record() {
            let bytes = h.session.outbound.readableArray()
            h.session.outbound.clear()
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count,
                    let (packet, length) = try! PacketDecoder.decode(UnsafeRawBufferPointer(rebasing: raw[offset...]), version: .v5)
                {
                    if case .publish(let view) = packet {
                        aliases.append((view.topicString, view.properties.uint16(PropertyID.topicAlias)))
                        #expect(view.properties.string(PropertyID.contentType) == "application/json")
                    }
                    offset += length
                }
            }
        }
        let first = try send("t/a")
        _ = try send("t/a")
        _ = try send("t/b")
        _ = try send("t/c")
        record()
        #expect(aliases.map(\.0) == ["t/a", "", "t/b", "t/c"])
        #expect(aliases.map(\.1) == [1, 1, 2, nil]) // the broker takes two
        // Re-sent after a reconnect, a message carries its name: aliases end with the connection.
        h.session.connectionClosed()
        try h.session.connectionOpened(now: 0)
        _ = h.sent()
        try h.feed(encoded { PacketEncoder.connack5(sessionPresent: true, reason: .success, into: $0) })
        aliases.removeAll()
        record()
        #expect(aliases.first?.0 == "t/a")
        #expect(aliases.allSatisfy { $0.1 == nil })
        _ = first
    }

    @Test func aPublishWithATopicAliasFromTheBrokerIsAViolation() throws {
        let h = try SessionHarness.v5()
        var p = PropertyBuilder()
        p.uint16(PropertyID.topicAlias, 1)
        let publish = encoded {
            PacketEncoder.publish5(topic: "c/x", payload: [], qos: .atMostOnce, packetID: 0, properties: p.bytes, into: $0)
        }
        #expect(throws: SessionFailure.self) { try h.feed(publish) }
    }

    @Test func theBrokersDisconnectAndRefusalsSayWhy() throws {
        let h = try SessionHarness.v5()
        #expect(throws: SessionFailure.disconnectedByBroker(BrokerReason(code: .sessionTakenOver))) {
            try h.feed(encoded { PacketEncoder.disconnect5(reason: .sessionTakenOver, into: $0) })
        }
        let r = SessionHarness(configuration: h.session.configuration)
        try r.session.connectionOpened(now: 0)
        var p = PropertyBuilder()
        p.string(PropertyID.serverReference, "10.0.0.2:1884")
        let moved = BrokerReason(code: .useAnotherServer, serverReference: "10.0.0.2:1884")
        #expect(throws: SessionFailure.rejected(moved)) {
            try r.feed(encoded { PacketEncoder.connack5(sessionPresent: false, reason: .useAnotherServer, properties: p.bytes, into: $0) })
        }
        #expect(moved.redirect == "10.0.0.2:1884")
        let old = SessionHarness(configuration: h.session.configuration)
        try old.session.connectionOpened(now: 0)
        #expect(throws: SessionFailure.refused(.unacceptableProtocolVersion)) { try old.feed([0x20, 2, 0, 1]) }
    }

    @Test func serverKeepAliveRetainAndQoSLimits() throws {
        let h = try SessionHarness.v5(stated: {
            $0.uint16(PropertyID.serverKeepAlive, 5)
            $0.byte(PropertyID.retainAvailable, 0)
            $0.byte(PropertyID.maximumQoS, 1)
        })
        #expect(h.session.nextDeadline() == 5 * second)
        _ = try [UInt8]("on".utf8).withUnsafeBytes {
            try h.session.publish(topic: "s", payload: $0, qos: .exactlyOnce, retain: true, now: 0)
        }
        let bytes = h.session.outbound.readableArray()
        #expect(bytes[0] == 0x32) // PUBLISH, QoS 1, not retained
        #expect(h.session.takeWarnings() == [.maximumQoS1, .retainUnavailable])
        let zero = SessionHarness(configuration: h.session.configuration)
        try zero.session.connectionOpened(now: 0)
        #expect(throws: SessionFailure.brokerTakesQoS0Only) { try zero.feed([0x20, 5, 0, 0, 2, 0x24, 0]) }
        var needs = h.session.configuration
        needs.minimumBrokerPacketSize = 512
        let tiny = SessionHarness(configuration: needs)
        try tiny.session.connectionOpened(now: 0)
        #expect(throws: SessionFailure.brokerPacketLimit(stated: 100, needed: 512)) {
            try tiny.feed([0x20, 8, 0, 0, 5, 0x27, 0, 0, 0, 100])
        }
    }

    @Test func subackReasonsArePerFilter() throws {
        let h = try SessionHarness.v5()
        let id = try h.session.subscribe([TopicSubscription("a/#"), TopicSubscription("b")], now: 0)
        let bytes = h.session.outbound.readableArray()
        #expect(bytes[4] == 0) // the property length 5.0 adds after the packet id
        try h.feed(encoded { PacketEncoder.suback5(packetID: id, [.grantedQoS1, .notAuthorized], into: $0) })
        #expect(h.events.last == "subscribed(\(id),\([SubscribeResult.granted(.atLeastOnce), .refused(.notAuthorized)]))")
    }
}
