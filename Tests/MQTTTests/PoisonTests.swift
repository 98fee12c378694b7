import Foundation
import Testing

@testable import MQTT

/// Messages a broker will never take: refused before sending when over its packet limit, given up
/// when it closes the connection on them again and again.
@Suite struct PoisonTests {
    @Test func aMessageOverTheBrokersLimitIsRefusedBeforeItIsSent() throws {
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "t", cleanSession: true, keepAlive: 60))
        config.maxOutgoingPacketSize = 100
        let h = SessionHarness(configuration: config)
        try h.connect()
        _ = h.sent()
        // 2 bytes of fixed header, 2 + 1 of topic, 2 of packet id, then the payload.
        #expect(throws: PublishRefusal.tooLarge(size: 102, limit: 100)) { try h.publish(String(repeating: "x", count: 95)) }
        #expect(h.session.inflightCount == 0 && h.sent().isEmpty)
        #expect(try h.publish(String(repeating: "x", count: 93)) != 0) // 100 bytes: fits exactly
        #expect(h.session.overPacketLimit(topicLength: 3, payloadLength: 95) == 104)
        #expect(h.session.overPacketLimit(topicLength: 3, payloadLength: 91) == nil)
    }

    @Test func anAbandonedMessageFreesItsSlotAndIsHandedOver() throws {
        let h = SessionHarness(cleanSession: false, maxInflight: 2)
        try h.connect()
        let first = try h.publish("poison")
        let second = try h.publish("fine")
        #expect(h.session.oldestUnacknowledged == first)
        #expect(!h.session.canPublishReliably)
        var handed: [String] = []
        #expect(h.session.abandon(first) { handed.append(String(decoding: $0.payload, as: UTF8.self)) })
        #expect(handed == ["poison"])
        #expect(h.session.oldestUnacknowledged == second)
        #expect(h.session.canPublishReliably && h.session.inflightCount == 1)
        #expect(!h.session.abandon(first) { _ in Issue.record("abandoned twice") })
        // A reconnect re-sends only what is left.
        h.session.connectionClosed()
        _ = h.sent()
        try h.connect(sessionPresent: true)
        #expect(h.sentPublishes().map(\.payload) == [Array("fine".utf8)])
    }

    @Test func threeClosesRightAfterTheSameMessageCondemnIt() {
        var watch = PoisonWatch()
        #expect(watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7) == nil)
        #expect(watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7) == nil)
        #expect(watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7) == 7)
        // Starts over after a verdict.
        #expect(watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7) == nil)
    }

    @Test func anythingElseInBetweenClearsTheSuspicion() {
        var watch = PoisonWatch()
        let cases: [(inout PoisonWatch) -> Void] = [
            { w in w.delivered(7) }, // it was acknowledged
            { w in _ = w.connectionClosed(byPeer: false, connectedFor: second, oldest: 7) }, // a timeout, not the broker
            { w in _ = w.connectionClosed(byPeer: true, connectedFor: 11 * second, oldest: 7) }, // a long connection
            { w in _ = w.connectionClosed(byPeer: true, connectedFor: second, oldest: 8) }, // another message oldest
            { w in _ = w.connectionClosed(byPeer: true, connectedFor: second, oldest: nil) }, // nothing in flight
        ]
        for clear in cases {
            watch = PoisonWatch()
            _ = watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7)
            _ = watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7)
            clear(&watch)
            #expect(watch.connectionClosed(byPeer: true, connectedFor: second, oldest: 7) == nil)
        }
    }

    @Test func brokerClosesAreToldFromOtherFailures() {
        #expect(PoisonWatch.closedByBroker(.transport(.closedByPeer)))
        #expect(PoisonWatch.closedByBroker(.transport(.system(operation: "read", errno: .connectionReset))))
        #expect(!PoisonWatch.closedByBroker(.transport(.connectTimeout)))
        #expect(!PoisonWatch.closedByBroker(.session(.keepAliveTimeout)))
    }
}

/// The client against a broker that closes the connection on one message, as mosquitto does on a
/// packet over `max_packet_size` and AWS IoT Core on a topic its policy forbids.
@Suite("A broker that refuses one message", .serialized)
struct RefusedMessageTests {
    @Test func theMessageIsGivenUpAfterThreeClosesAndTheOthersGo() throws {
        let broker = FakeBroker()
        let acknowledged = Locked<[String]>([])
        let stop = Locked(false)
        let done = broker.serve { broker in
            while !stop.get(), let connection = broker.accept(seconds: 5) {
                connection.handshake(sessionPresent: true)
                serving: while !stop.get(), let bytes = connection.readPacket(seconds: 0.2) {
                    guard case .publish(let view)? = try? bytes.withUnsafeBytes({ try PacketDecoder.decode($0)?.packet }) else { continue }
                    let payload = String(decoding: view.payload, as: UTF8.self)
                    if payload == "poison" { break serving } // closes the connection
                    connection.send([0x40, 2, UInt8(view.packetID >> 8), UInt8(view.packetID & 0xFF)])
                    acknowledged.mutate { $0.append(payload) }
                }
            }
        }
        let c = try TestClient(broker.url, cleanSession: false)
        c.client.start()
        try c.client.publish(topic: "t", payload: Array("poison".utf8), qos: .atLeastOnce)
        try c.client.publish(topic: "t", payload: Array("fine".utf8), qos: .atLeastOnce)
        #expect(drive([c]) { acknowledged.get().contains("fine") })
        #expect(c.recorder.gaveUp.map(\.payload) == ["poison"])
        #expect(c.recorder.errors.count == 3, "\(c.recorder.errors)")
        #expect(c.client.session.inflightCount == 0)
        stop.set(true)
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }

    /// Connections the broker ends at once do not reset the backoff: it grows as if the broker
    /// were down (it used to restart at the minimum on every CONNACK: a reconnect every 50 ms here).
    @Test func connectionsThatDieAtOnceDoNotResetTheBackoff() throws {
        let broker = FakeBroker()
        let done = broker.serve { broker in
            for _ in 0..<8 {
                guard let connection = broker.accept(seconds: 5) else { return }
                connection.handshake()
                connection.close()
            }
        }
        let c = try TestClient(broker.url) { $0.backoff = ReconnectBackoff(minimum: 50_000_000, maximum: 1_000_000_000) }
        #expect(drive([c], seconds: 20) { c.recorder.retryDelays.count >= 8 })
        #expect(c.recorder.connects.count >= 8)
        // Drawn between the minimum and a cap that doubles: all eight at most 100 ms has odds of about 1 in 40 million.
        #expect(c.recorder.retryDelays.max() ?? 0 > 100_000_000, "\(c.recorder.retryDelays.map { $0 / 1_000_000 }) ms")
        c.client.stop()
        _ = done.wait(timeout: .now() + 5)
    }
}

@Test func aPacketOverOurLimitIsNotCalledMalformed() {
    let failure = SessionFailure.protocolViolation(.packetTooLarge(size: 70_000, limit: 65_536))
    #expect(failure.description == "the broker sent a packet of 70000 bytes, over this client's limit of 65536")
    #expect(SessionFailure.protocolViolation(.malformedRemainingLength).description.hasPrefix("malformed packet from broker"))
}
