import Syscalls

/// The MQTT 3.1.1 client session as a state machine with no I/O: feed it received bytes, requests
/// and the time; it writes the bytes to send into `outbound` and reports events. Every protocol rule
/// lives here, so every rule is a plain unit test and a fuzz target.
public final class MQTTSession {
    public enum State: Equatable, Sendable {
        case disconnected
        case awaitingConnack
        case connected
    }

    public let configuration: SessionConfiguration
    /// Bytes to write to the network, in order. The driver drains it with `moveReaderIndex`.
    public let outbound = WireBuffer(capacity: 16 * 1024)
    public private(set) var state: State = .disconnected

    private var window: InflightWindow
    /// QoS 2 messages received and answered with PUBREC, until PUBREL (section 4.3.3, method B).
    private var awaitingRelease = PacketIDSet()
    private var nextControlID: UInt16 = 0xC000
    private var connectStartedAt: Nanoseconds = 0
    private var lastSentAt: Nanoseconds = 0
    private var lastReceivedAt: Nanoseconds = 0
    private var pingSentAt: Nanoseconds?
    /// Bytes of an oversized PUBLISH still to be skipped.
    private var skipping = 0
    /// SUBSCRIBE and UNSUBSCRIBE packets not yet answered: packet id to the number of filters.
    private var pendingSubscribes: [UInt16: Int] = [:]
    private var pendingUnsubscribes: Set<UInt16> = []

    public init(configuration: SessionConfiguration) {
        self.configuration = configuration
        self.window = InflightWindow(capacity: configuration.maxInflight, arenaBytes: configuration.inflightArenaBytes)
    }

    deinit {
        window.deallocate()
        awaitingRelease.deallocate()
    }

    /// Outgoing QoS 1/2 messages not yet acknowledged.
    public var inflightCount: Int { window.pending }
    public var canPublishReliably: Bool { !window.isFull }

    /// The size of a QoS 1 PUBLISH if it is over the broker's packet limit, else nil.
    public func overPacketLimit(topicLength: Int, payloadLength: Int) -> Int? {
        guard let limit = configuration.maxOutgoingPacketSize else { return nil }
        do throws(PacketError) {
            let size = try PacketEncoder.publishSize(topicLength: topicLength, payloadLength: payloadLength, qos: .atLeastOnce)
            return size > limit ? size : nil
        } catch { return Int.max } // over MQTT's own limit
    }

    /// The size of the PUBLISH stored for a message in flight.
    public func storedSize(of id: UInt16) -> Int? { window.bytes(of: id)?.count }

    /// The oldest message not yet acknowledged, if it went out: a reconnect sends it first.
    public var oldestUnacknowledged: UInt16? { window.oldestSent }

    /// Gives up a message the broker will never take (it closes the connection on it): its slot is
    /// freed as if acknowledged, without a `.delivered` event; `body` gets the message first.
    /// False if `id` is not in flight.
    @discardableResult
    public func abandon(_ id: UInt16, _ body: (PublishView) -> Void) -> Bool {
        guard let stored = window.bytes(of: id) else { return false }
        do throws(PacketError) {
            if case .publish(let view)? = try PacketDecoder.decode(stored)?.packet { body(view) }
        } catch { assertionFailure("the window holds only PUBLISH packets this session encoded: \(error)") }
        return window.abandon(id)
    }
    // MARK: Connection lifecycle

    /// The transport is open: discard stale bytes and write CONNECT.
    public func connectionOpened(now: Nanoseconds) throws(PacketError) {
        outbound.clear()
        try PacketEncoder.connect(configuration.connect, into: outbound)
        state = .awaitingConnack
        connectStartedAt = now
        lastSentAt = now
        lastReceivedAt = now
        pingSentAt = nil
    }

    /// The transport closed, for whatever reason. Unacknowledged messages stay for the next connection.
    public func connectionClosed() {
        state = .disconnected
        outbound.clear()
        pingSentAt = nil
        skipping = 0
        pendingSubscribes.removeAll()
        pendingUnsubscribes.removeAll()
    }

    /// Writes DISCONNECT (section 3.14): the broker then discards the will.
    public func disconnect() {
        guard state != .disconnected else { return }
        PacketEncoder.empty(.disconnect, into: outbound)
        state = .disconnected
    }

    // MARK: Requests

    /// Queues a message. QoS 0 is written at once if connected. QoS 1/2 take a slot in the in-flight
    /// window and are written at once if connected, else when the connection is back. Returns the
    /// packet id (0 for QoS 0).
    @discardableResult
    public func publish(
        topic: String, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        var topic = topic
        // withUTF8 rethrows untyped; carry the typed error out through a Result (no boxing).
        let result = topic.withUTF8 { utf8 -> Result<UInt16, PublishRefusal> in
            do throws(PublishRefusal) {
                return .success(
                    try publish(
                        topic: UnsafeRawBufferPointer(utf8), payload: payload, qos: qos,
                        retain: retain, now: now))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func publish(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        if let problem = Topic.validateName(topic) { throw .invalid(problem) }
        return try publish(validName: topic, payload: payload, qos: qos, retain: retain, now: now)
    }

    /// Publishes on a topic name the caller checked (ValidatedTopic.swift).
    func publish(
        validName topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        let size: Int
        do throws(PacketError) {
            size = try PacketEncoder.publishSize(topicLength: topic.count, payloadLength: payload.count, qos: qos)
        } catch { throw .invalid(error) }
        if let limit = configuration.maxOutgoingPacketSize, size > limit { throw .tooLarge(size: size, limit: limit) }
        if qos == .atMostOnce {
            guard state == .connected else { throw .notConnected }
            PacketEncoder.publish(
                validTopic: topic, payload: payload, qos: qos, retain: retain, dup: false, packetID: 0, size: size, into: outbound)
            lastSentAt = now
            return 0
        }
        guard let (id, stored) = window.reserve(length: size, qos: qos) else { throw .windowFull }
        // Encode once into the outbound buffer, then keep a copy for re-sending.
        let mark = outbound.writerIndex
        PacketEncoder.publish(
            validTopic: topic, payload: payload, qos: qos, retain: retain, dup: false, packetID: id, size: size, into: outbound)
        stored.copyMemory(from: UnsafeRawBufferPointer(rebasing: outbound.readableView[(mark - outbound.readerIndex)...]))
        if state == .connected {
            window.markSent(id)
            lastSentAt = now
        } else {
            outbound.truncate(toWriterIndex: mark) // sent after CONNACK, with the rest of the window
        }
        return id
    }

    /// Writes SUBSCRIBE; returns its packet id. The result comes as `.subscribed`.
    public func subscribe(_ subscriptions: [TopicSubscription], now: Nanoseconds) throws(PublishRefusal) -> UInt16 {
        guard state == .connected else { throw .notConnected }
        let id = takeControlID()
        do throws(PacketError) { try PacketEncoder.subscribe(packetID: id, subscriptions, into: outbound) } catch { throw .invalid(error) }
        pendingSubscribes[id] = subscriptions.count
        lastSentAt = now
        return id
    }

    public func unsubscribe(_ filters: [String], now: Nanoseconds) throws(PublishRefusal) -> UInt16 {
        guard state == .connected else { throw .notConnected }
        let id = takeControlID()
        do throws(PacketError) { try PacketEncoder.unsubscribe(packetID: id, filters, into: outbound) } catch { throw .invalid(error) }
        pendingUnsubscribes.insert(id)
        lastSentAt = now
        return id
    }

    // MARK: Incoming bytes

    /// Processes every complete packet at the front of `bytes`; returns how many bytes it consumed.
    /// A partial packet is left for the next call.
    ///
    /// A PUBLISH over `maxIncomingPacketSize` does not end the connection: closing it would make the
    /// broker send the same message again after every reconnect, forever. Its topic and packet id are
    /// read, it is acknowledged as its QoS requires and reported as `.messageTooLarge`, and its
    /// remaining bytes are skipped as they arrive, so it never has to fit in memory.
    public func receive(
        _ bytes: UnsafeRawBufferPointer, now: Nanoseconds,
        handler: (SessionEvent) -> Void
    ) throws(SessionFailure) -> Int {
        var consumed = min(skipping, bytes.count)
        skipping -= consumed
        if consumed > 0 { lastReceivedAt = now }
        while consumed < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
            let decoded: (packet: Packet, length: Int)?
            do throws(PacketError) {
                guard let header = try PacketDecoder.fixedHeader(rest, maxPacketSize: Int.max) else { break }
                if header.packetLength > configuration.maxIncomingPacketSize {
                    guard header.type == .publish, state == .connected else {
                        throw PacketError.packetTooLarge(size: header.packetLength, limit: configuration.maxIncomingPacketSize)
                    }
                    guard let skipped = try skipOversized(header, rest, now: now, handler: handler) else { break }
                    consumed += skipped
                    continue
                }
                // The header is read once: `decode` would read it again.
                guard rest.count >= header.packetLength else { break }
                let body = UnsafeRawBufferPointer(rebasing: rest[header.headerLength..<header.packetLength])
                decoded = (try PacketDecoder.decodeBody(header, body), header.packetLength)
            } catch { throw .protocolViolation(error) }
            guard let (packet, length) = decoded else { break }
            consumed += length
            lastReceivedAt = now
            try handle(packet, now: now, handler: handler)
        }
        return consumed
    }

    /// An oversized PUBLISH: reported and acknowledged once its topic and packet id are in; returns
    /// the bytes consumed (the rest is skipped by later calls), or nil while the head is incomplete.
    private func skipOversized(
        _ header: FixedHeader, _ bytes: UnsafeRawBufferPointer, now: Nanoseconds,
        handler: (SessionEvent) -> Void
    ) throws(PacketError) -> Int? {
        guard let head = try PacketDecoder.publishHead(header, bytes) else { return nil }
        lastReceivedAt = now
        switch head.qos {
        case .atMostOnce:
            handler(.messageTooLarge(head))
        case .atLeastOnce:
            PacketEncoder.acknowledgement(.puback, packetID: head.packetID, into: outbound)
            lastSentAt = now
            handler(.messageTooLarge(head))
        case .exactlyOnce:
            if awaitingRelease.insert(head.packetID) { handler(.messageTooLarge(head)) }
            PacketEncoder.acknowledgement(.pubrec, packetID: head.packetID, into: outbound)
            lastSentAt = now
        }
        let available = min(bytes.count, header.packetLength)
        skipping = header.packetLength - available
        return available
    }

    private func handle(_ packet: Packet, now: Nanoseconds, handler: (SessionEvent) -> Void) throws(SessionFailure) {
        if state == .awaitingConnack {
            guard case .connack(let sessionPresent, let code) = packet else {
                throw .unexpectedPacket(packet.type, whileState: "waiting for CONNACK") // MQTT-3.2.0-1
            }
            guard code == .accepted else { throw .refused(code) }
            state = .connected
            if !sessionPresent && configuration.connect.cleanSession { awaitingRelease.removeAll() }
            resendPending(now: now)
            handler(.connected(sessionPresent: sessionPresent))
            return
        }
        guard state == .connected else { throw .unexpectedPacket(packet.type, whileState: "disconnected") }
        switch packet {
        case .publish(let view):
            switch view.qos {
            case .atMostOnce:
                handler(.message(view))
            case .atLeastOnce:
                handler(.message(view))
                PacketEncoder.acknowledgement(.puback, packetID: view.packetID, into: outbound)
                lastSentAt = now
            case .exactlyOnce:
                // Deliver once; a re-sent PUBLISH with the same id before PUBREL is not delivered again.
                if awaitingRelease.insert(view.packetID) { handler(.message(view)) }
                PacketEncoder.acknowledgement(.pubrec, packetID: view.packetID, into: outbound)
                lastSentAt = now
            }
        case .pubrel(let id):
            awaitingRelease.remove(id)
            // MQTT-4.3.3-2 (method B): answer PUBCOMP even if the id is unknown, so the broker can finish.
            PacketEncoder.acknowledgement(.pubcomp, packetID: id, into: outbound)
            lastSentAt = now
        case .puback(let id):
            if window.complete(id, expecting: .awaitingPuback) {
                handler(.delivered(packetID: id))
            } else if window.complete(id, expecting: .awaitingPubrec) {
                // RabbitMQ's MQTT plugin downgrades QoS 2 to 1 and answers PUBACK: the message
                // was delivered, at least once.
                handler(.delivered(packetID: id))
                handler(.warning(.qos2Downgraded(id)))
            } else {
                handler(.warning(.unknownPacketID(.puback, id)))
            }
        case .pubrec(let id):
            if window.received(pubrec: id) {
                PacketEncoder.acknowledgement(.pubrel, packetID: id, into: outbound)
                lastSentAt = now
            } else {
                handler(.warning(.unknownPacketID(.pubrec, id)))
            }
        case .pubcomp(let id):
            if window.complete(id, expecting: .awaitingPubcomp) {
                handler(.delivered(packetID: id))
            } else {
                handler(.warning(.unknownPacketID(.pubcomp, id)))
            }
        case .suback(let id, let results):
            // Only an answer to a SUBSCRIBE still pending counts; a second SUBACK for it is not one.
            guard let expected = pendingSubscribes.removeValue(forKey: id) else {
                handler(.warning(.unknownPacketID(.suback, id)))
                return
            }
            guard results.count == expected else {
                throw .protocolViolation(.subackCountMismatch(packetID: id, expected: expected, got: results.count))
            }
            handler(.subscribed(packetID: id, results: results))
        case .unsuback(let id):
            guard pendingUnsubscribes.remove(id) != nil else {
                handler(.warning(.unknownPacketID(.unsuback, id)))
                return
            }
            handler(.unsubscribed(packetID: id))
        case .pingresp:
            pingSentAt = nil
        case .connect, .connack, .subscribe, .unsubscribe, .pingreq, .disconnect:
            throw .unexpectedPacket(packet.type, whileState: "connected")
        }
    }

    /// After CONNACK: every unacknowledged PUBLISH and PUBREL again, in original order (MQTT-4.4.0-1).
    private func resendPending(now: Nanoseconds) {
        let outbound = self.outbound
        window.forEachPending { stage, id, wasSent, stored in
            switch stage {
            case .awaitingPuback, .awaitingPubrec:
                if wasSent { stored[0] |= 0x08 } // DUP, MQTT-3.3.1-1
                outbound.writeBytes(UnsafeRawBufferPointer(stored))
            case .awaitingPubcomp:
                PacketEncoder.acknowledgement(.pubrel, packetID: id, into: outbound)
            case .done:
                break
            }
        }
        lastSentAt = now
    }

    // MARK: Time

    /// Keep alive (section 3.1.2.10): PINGREQ when nothing was sent or received for a keep-alive
    /// period; failure when the broker does not answer in time.
    public func tick(now: Nanoseconds) throws(SessionFailure) {
        switch state {
        case .disconnected:
            return
        case .awaitingConnack:
            if now &- connectStartedAt >= configuration.connackTimeout { throw .connackTimeout }
        case .connected:
            let keepAlive = UInt64(configuration.connect.keepAlive) * 1_000_000_000
            guard keepAlive > 0 else { return }
            if let pingSentAt {
                if now &- pingSentAt >= configuration.effectivePingTimeout { throw .keepAliveTimeout }
            } else if now &- lastSentAt >= keepAlive || now &- lastReceivedAt >= keepAlive {
                PacketEncoder.empty(.pingreq, into: outbound)
                pingSentAt = now
                lastSentAt = now
            }
        }
    }

    /// When `tick` next has something to do, if anything.
    public func nextDeadline() -> Nanoseconds? {
        switch state {
        case .disconnected:
            return nil
        case .awaitingConnack:
            return connectStartedAt &+ configuration.connackTimeout
        case .connected:
            let keepAlive = UInt64(configuration.connect.keepAlive) * 1_000_000_000
            guard keepAlive > 0 else { return nil }
            if let pingSentAt { return pingSentAt &+ configuration.effectivePingTimeout }
            return min(lastSentAt, lastReceivedAt) &+ keepAlive
        }
    }

    /// Forgets every unacknowledged message (a user who asked for a clean start).
    public func discardInflight() {
        window.removeAll()
        awaitingRelease.removeAll()
    }

    private func takeControlID() -> UInt16 {
        // SUBSCRIBE/UNSUBSCRIBE ids come from the top of the range and skip publish ids in flight and
        // control ids still pending. Publish ids come from the bottom and skip only what the window
        // holds, so the two ranges keep them apart in practice (a window of 49,152 would be needed).
        var id = nextControlID
        while window.contains(id) || id == 0 || pendingSubscribes[id] != nil || pendingUnsubscribes.contains(id) { id = id &+ 1 }
        nextControlID = id &+ 1
        return id
    }
}
