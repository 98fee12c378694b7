import Syscalls
import Testing

@testable import MQTT

let second: Nanoseconds = 1_000_000_000

/// Drives a session as a broker would: feeds it bytes, collects what it wrote and what it reported.
final class SessionHarness {
    let session: MQTTSession
    var events: [String] = []
    var messages: [(topic: String, payload: [UInt8], qos: QoS)] = []
    var delivered: [UInt16] = []
    var warnings: [SessionWarning] = []

    init(keepAlive: UInt16 = 60, cleanSession: Bool = true, maxInflight: Int = 4, arena: Int = 1024) {
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "test", cleanSession: cleanSession, keepAlive: keepAlive))
        config.maxInflight = maxInflight
        config.inflightArenaBytes = arena
        session = MQTTSession(configuration: config)
    }

    init(configuration: SessionConfiguration) { session = MQTTSession(configuration: configuration) }

    /// Takes the bytes the session wants to send, decoded.
    func sent() -> [Packet] {
        var packets: [Packet] = []
        let bytes = session.outbound.readableArray()
        session.outbound.clear()
        var offset = 0
        while offset < bytes.count {
            // Views of decoded PUBLISH packets point into `bytes`, which lives in this function
            // only; tests read them through `sentPublishes` instead.
            let (packet, length) = try! decode(Array(bytes[offset...]), version: session.version)!
            packets.append(packet)
            offset += length
        }
        return packets
    }

    func sentTypes() -> [PacketType] { sent().map(\.type) }

    /// PUBLISH packets written, as (id, dup, topic, payload).
    func sentPublishes() -> [(id: UInt16, dup: Bool, topic: String, payload: [UInt8])] {
        let bytes = session.outbound.readableArray()
        session.outbound.clear()
        var result: [(UInt16, Bool, String, [UInt8])] = []
        var offset = 0
        while offset < bytes.count {
            let rest = Array(bytes[offset...])
            let (packet, length) = try! decode(rest, version: session.version)!
            if case .publish = packet {
                rest.withUnsafeBytes { raw in
                    if case .publish(let v) = try! PacketDecoder.decode(raw, version: session.version)!.packet {
                        result.append((v.packetID, v.dup, v.topicString, v.payloadBytes))
                    }
                }
            }
            offset += length
        }
        return result
    }

    @discardableResult
    func feed(_ bytes: [UInt8], now: Nanoseconds = 0) throws(SessionFailure) -> Int {
        let result = bytes.withUnsafeBytes { raw -> Result<Int, SessionFailure> in
            do throws(SessionFailure) {
                return .success(
                    try session.receive(raw, now: now) { event in
                        switch event {
                        case .connected(let present): events.append("connected(\(present))")
                        case .message(let view): messages.append((view.topicString, view.payloadBytes, view.qos))
                        case .delivered(let id): delivered.append(id)
                        case .subscribed(let id, let results): events.append("subscribed(\(id),\(results))")
                        case .unsubscribed(let id): events.append("unsubscribed(\(id))")
                        case .warning(let warning): warnings.append(warning)
                        case .messageTooLarge(let head): events.append("tooLarge(\(head.topicString),\(head.packetSize),\(head.packetID))")
                        case .refused(let id, let reason, let text, let message):
                            events.append(
                                "refused(\(id),\(reason.rawValue),\(text ?? "-"),\(String(decoding: message.payload, as: UTF8.self)))")
                        case .retrying(let id, let reason, let retry): events.append("retrying(\(id),\(reason.rawValue),\(retry))")
                        }
                    })
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    func connect(now: Nanoseconds = 0, sessionPresent: Bool = false) throws {
        try session.connectionOpened(now: now)
        #expect(sentTypes() == [.connect])
        try feed([0x20, 2, sessionPresent ? 1 : 0, 0], now: now)
    }

    @discardableResult
    func publish(_ text: String, qos: QoS = .atLeastOnce, now: Nanoseconds = 0) throws(PublishRefusal) -> UInt16 {
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { raw -> Result<UInt16, PublishRefusal> in
            do throws(PublishRefusal) { return .success(try session.publish(topic: "t", payload: raw, qos: qos, now: now)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

@Suite("Session state machine")
struct SessionTests {
    @Test func connectHandshake() throws {
        let h = SessionHarness()
        try h.connect()
        #expect(h.session.state == .connected)
        #expect(h.events == ["connected(false)"])
    }

    @Test func refusedConnectionIsAFailureWithTheCode() throws {
        let h = SessionHarness()
        try h.session.connectionOpened(now: 0)
        #expect(throws: SessionFailure.refused(.badUsernameOrPassword)) { try h.feed([0x20, 2, 0, 4]) }
    }

    @Test func packetBeforeConnackIsAViolation() throws {
        let h = SessionHarness()
        try h.session.connectionOpened(now: 0)
        #expect(throws: SessionFailure.unexpectedPacket(.puback, whileState: "waiting for CONNACK")) { try h.feed([0x40, 2, 0, 1]) }
    }

    @Test func brokerOnlyPacketsAreViolations() throws {
        let h = SessionHarness()
        try h.connect()
        #expect(throws: SessionFailure.unexpectedPacket(.pingreq, whileState: "connected")) { try h.feed([0xC0, 0]) }
        #expect(throws: SessionFailure.unexpectedPacket(.connack, whileState: "connected")) { try h.feed([0x20, 2, 0, 0]) }
    }

    @Test func garbageIsAProtocolViolation() throws {
        let h = SessionHarness()
        try h.connect()
        #expect(throws: SessionFailure.protocolViolation(.unknownPacketType(0))) { try h.feed([0x00, 0x00]) }
    }

    @Test func oversizedPublishIsAcknowledgedAndSkippedNotAReasonToDisconnect() throws {
        var config = SessionConfiguration(connect: ConnectOptions(clientID: "t", cleanSession: true, keepAlive: 60))
        config.maxIncomingPacketSize = 64
        let h = SessionHarness(configuration: config)
        try h.connect()
        // A 200-byte QoS 1 PUBLISH on "c/x" (id 7), arriving in three pieces, then a small one.
        let payload = [UInt8](repeating: 0x41, count: 190) // 3-byte fixed header, topic 2 + 3, id 2
        let big: [UInt8] = [0x32, 0xC5, 0x01, 0, 3] + Array("c/x".utf8) + [0, 7] + payload
        #expect(big.count == 200)
        #expect(try h.feed(Array(big[0..<4])) == 0) // the topic is not in yet
        #expect(try h.feed(Array(big[0..<50])) == 50) // head in: reported, acknowledged, skipping
        #expect(h.events.last == "tooLarge(c/x,200,7)")
        guard case .puback(7, _, _)? = h.sent().first else { Issue.record("no PUBACK for the skipped message"); return }
        #expect(try h.feed(Array(big[50..<120])) == 70)
        let small: [UInt8] = [0x30, 5, 0, 1, 0x74, 0x68, 0x69]
        #expect(try h.feed(Array(big[120...]) + small) == 80 + small.count)
        #expect(h.messages.map(\.payload) == [Array("hi".utf8)])
        #expect(h.events.filter { $0.hasPrefix("tooLarge") }.count == 1)
    }

    @Test func oversizedPacketsOtherThanPublishEndTheConnection() throws {
        let h = SessionHarness()
        try h.connect()
        // The fixed header of a 2 MB SUBACK: refused at once against the 1 MiB default.
        #expect(throws: SessionFailure.protocolViolation(.packetTooLarge(size: 2_000_004, limit: 1_048_576))) {
            try h.feed([0x90, 0x80, 0x89, 0x7A])
        }
    }

    @Test func partialPacketsWaitForTheRest() throws {
        let h = SessionHarness()
        try h.connect()
        let publish: [UInt8] = [0x30, 5, 0, 1, 0x74, 0x68, 0x69]
        #expect(try h.feed(Array(publish[..<3])) == 0)
        #expect(try h.feed(publish) == 7)
        #expect(h.messages.map(\.payload) == [Array("hi".utf8)])
    }

    @Test func qos1PublishAndPuback() throws {
        let h = SessionHarness()
        try h.connect()
        let id = try h.publish("one")
        #expect(id == 1)
        #expect(h.sentPublishes().map(\.payload) == [Array("one".utf8)])
        #expect(h.session.inflightCount == 1)
        try h.feed([0x40, 2, 0, 1])
        #expect(h.delivered == [1])
        #expect(h.session.inflightCount == 0)
    }

    @Test func pubackForUnknownIdIsAWarningNotACrash() throws {
        let h = SessionHarness()
        try h.connect()
        try h.feed([0x40, 2, 0, 99])
        try h.feed([0x70, 2, 0, 98])
        #expect(h.warnings == [.unknownPacketID(.puback, 99), .unknownPacketID(.pubcomp, 98)])
        #expect(h.session.state == .connected)
    }

    @Test func windowFullRefusesUntilAcknowledged() throws {
        let h = SessionHarness(maxInflight: 2)
        try h.connect()
        try h.publish("a")
        try h.publish("b")
        #expect(throws: PublishRefusal.windowFull) { try h.publish("c") }
        try h.feed([0x40, 2, 0, 2]) // out of order: the second first
        #expect(throws: PublishRefusal.windowFull) { try h.publish("c") } // slot of "a" still held
        try h.feed([0x40, 2, 0, 1])
        #expect(try h.publish("c") == 3)
    }

    @Test func arenaFullRefusesToo() throws {
        let h = SessionHarness(maxInflight: 8, arena: 1024)
        try h.connect()
        let big = String(repeating: "x", count: 600)
        try h.publish(big)
        #expect(throws: PublishRefusal.windowFull) { try h.publish(big) }
        try h.feed([0x40, 2, 0, 1])
        try h.publish(big)
    }

    @Test func idsAreNeverReusedWhileInFlightAcrossWraparound() throws {
        let h = SessionHarness(maxInflight: 3)
        try h.connect()
        var inFlight: [UInt16] = [try h.publish("x"), try h.publish("x")]
        var seen: Set<UInt16> = Set(inFlight)
        for _ in 0..<70_000 {
            let id = try h.publish("x")
            #expect(id != 0 && !inFlight.contains(id))
            inFlight.append(id)
            seen.insert(id)
            h.session.outbound.clear()
            let oldest = inFlight.removeFirst()
            try h.feed([0x40, 2, UInt8(oldest >> 8), UInt8(oldest & 0xFF)])
        }
        #expect(seen.count == 65_535) // every id but 0, wrapping around
        #expect(h.warnings.isEmpty)
    }

    @Test func controlIdsSkipIdsInFlight() throws {
        let h = SessionHarness()
        try h.connect()
        let publishID = try h.publish("x")
        let subscribeID = try h.session.subscribe([TopicSubscription("a")], now: 0)
        #expect(subscribeID != publishID)
    }

    @Test func qos0NeedsAConnection() {
        let h = SessionHarness()
        #expect(throws: PublishRefusal.notConnected) { try h.publish("x", qos: .atMostOnce) }
    }

    @Test func resendAfterReconnectInOrderWithDup() throws {
        let h = SessionHarness(cleanSession: false)
        try h.connect()
        try h.publish("1"); try h.publish("2"); try h.publish("3")
        #expect(h.sentPublishes().map(\.dup) == [false, false, false])
        try h.feed([0x40, 2, 0, 2]) // "2" acknowledged
        h.session.connectionClosed()
        try h.publish("4") // queued while offline: not sent before, so no DUP later
        #expect(h.session.outbound.isEmpty)
        try h.connect(sessionPresent: true)
        let resent = h.sentPublishes()
        #expect(resent.map(\.payload) == ["1", "3", "4"].map { Array($0.utf8) })
        #expect(resent.map(\.id) == [1, 3, 4])
        #expect(resent.map(\.dup) == [true, true, false])
    }

    @Test func qos2OutgoingFlow() throws {
        let h = SessionHarness(cleanSession: false)
        try h.connect()
        let id = try h.publish("exactly", qos: .exactlyOnce)
        _ = h.sent()
        try h.feed([0x50, 2, 0, UInt8(id)]) // PUBREC
        #expect(h.sentTypes() == [.pubrel])
        h.session.connectionClosed() // cut before PUBCOMP
        try h.connect(sessionPresent: true)
        #expect(h.sentTypes() == [.pubrel]) // PUBREL re-sent, not the PUBLISH (4.3.3)
        try h.feed([0x70, 2, 0, UInt8(id)]) // PUBCOMP
        #expect(h.delivered == [id])
        #expect(h.session.inflightCount == 0)
    }

    @Test func qos2IncomingDeliveredExactlyOnce() throws {
        let h = SessionHarness()
        try h.connect()
        let publish: [UInt8] = [0x34, 6, 0, 1, 0x74, 0, 7, 0x41]
        try h.feed(publish)
        #expect(h.sentTypes() == [.pubrec])
        var dup = publish; dup[0] |= 0x08
        try h.feed(dup) // broker re-sends before our PUBREC arrived
        #expect(h.sentTypes() == [.pubrec])
        #expect(h.messages.count == 1)
        try h.feed([0x62, 2, 0, 7]) // PUBREL
        #expect(h.sentTypes() == [.pubcomp])
        try h.feed(publish) // a new message reusing id 7
        #expect(h.messages.count == 2)
    }

    @Test func qos1IncomingIsAcknowledged() throws {
        let h = SessionHarness()
        try h.connect()
        try h.feed([0x32, 6, 0, 1, 0x74, 0x01, 0x02, 0x41])
        guard case .puback(0x0102, _, _) = h.sent().first else { Issue.record("no PUBACK"); return }
        #expect(h.messages.first?.qos == .atLeastOnce)
    }

    @Test func keepAlivePingsWhenIdleAndFailsWhenSilent() throws {
        let h = SessionHarness(keepAlive: 10)
        try h.connect(now: 0)
        #expect(h.session.nextDeadline() == 10 * second)
        try h.session.tick(now: 9 * second)
        #expect(h.session.outbound.isEmpty)
        try h.session.tick(now: 10 * second)
        #expect(h.sentTypes() == [.pingreq])
        try h.feed([0xD0, 0], now: 11 * second) // PINGRESP
        try h.session.tick(now: 20 * second)
        #expect(h.sentTypes() == [.pingreq]) // idle again since the ping at 10 s
        #expect(h.session.nextDeadline() == 25 * second) // half the keep alive to answer
        #expect(throws: SessionFailure.keepAliveTimeout) { try h.session.tick(now: 25 * second) }
    }

    @Test func keepAliveProbesABrokerThatOnlyStoppedTalking() throws {
        let h = SessionHarness(keepAlive: 10)
        try h.connect(now: 0)
        // We keep sending, so we are never idle; the broker says nothing back.
        for t in 1...10 { try h.publish("x", qos: .atMostOnce, now: UInt64(t) * second) }
        _ = h.sent()
        try h.session.tick(now: 10 * second)
        #expect(h.sentTypes() == [.pingreq])
    }

    @Test func connackTimeout() throws {
        let h = SessionHarness()
        try h.session.connectionOpened(now: 0)
        try h.session.tick(now: 9 * second)
        #expect(throws: SessionFailure.connackTimeout) { try h.session.tick(now: 10 * second) }
    }

    @Test func subscribeAndSuback() throws {
        let h = SessionHarness()
        try h.connect()
        let id = try h.session.subscribe([TopicSubscription("a/#")], now: 0)
        #expect(h.sentTypes() == [.subscribe])
        try h.feed([0x90, 3, UInt8(id >> 8), UInt8(id & 0xFF), 0x80])
        #expect(h.events.last == "subscribed(\(id),[MQTT.SubscribeResult.failure])")
    }

    @Test func subackIsCheckedAgainstTheSubscribeItAnswers() throws {
        let h = SessionHarness()
        try h.connect()
        // No SUBSCRIBE with id 5 is pending: a warning, not a subscription.
        try h.feed([0x90, 3, 0, 5, 0x00])
        #expect(h.warnings == [.unknownPacketID(.suback, 5)])
        #expect(!h.events.contains { $0.hasPrefix("subscribed") })
        let id = try h.session.subscribe([TopicSubscription("a/#"), TopicSubscription("b")], now: 0)
        // Two filters, one return code: MQTT-3.9.3-1.
        #expect(throws: SessionFailure.protocolViolation(.subackCountMismatch(packetID: id, expected: 2, got: 1))) {
            try h.feed([0x90, 3, UInt8(id >> 8), UInt8(id & 0xFF), 0x00])
        }
        h.session.connectionClosed()
        try h.connect()
        let again = try h.session.subscribe([TopicSubscription("a/#")], now: 0)
        try h.feed([0x90, 3, UInt8(again >> 8), UInt8(again & 0xFF), 0x01])
        #expect(h.events.last == "subscribed(\(again),[MQTT.SubscribeResult.granted(QoS 1)])")
        // A second SUBACK for the same id answers nothing.
        try h.feed([0x90, 3, UInt8(again >> 8), UInt8(again & 0xFF), 0x01])
        #expect(h.warnings.last == .unknownPacketID(.suback, again))
        #expect(h.events.filter { $0.hasPrefix("subscribed") }.count == 1)
    }

    /// RabbitMQ answers a QoS 2 PUBLISH with PUBACK: delivered (at least once), with a warning;
    /// it used to be "not in flight", and `pub -q 2` waited 10 s and failed.
    @Test func aPubackForQoS2IsADowngradeNotAnUnknownID() throws {
        let h = SessionHarness()
        try h.connect()
        let id = try h.publish("x", qos: .exactlyOnce)
        _ = h.sent()
        try h.feed([0x40, 2, UInt8(id >> 8), UInt8(id & 0xFF)])
        #expect(h.delivered == [id])
        #expect(h.warnings == [.qos2Downgraded(id)])
        #expect(h.session.inflightCount == 0)
    }
}
