import Syscalls

/// Incoming bytes and the clock: packets decoded and answered, acknowledgements matched to the
/// window, and the messages waiting in it sent as the broker's limits allow.
extension MQTTSession {
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
                guard let header = try PacketDecoder.fixedHeader(rest, maxPacketSize: Int.max, version: version) else { break }
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
                decoded = (try PacketDecoder.decodeBody(header, body, version: version), header.packetLength)
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
        if version == .v5, case .disconnect(let reason, let properties) = packet {
            throw .disconnectedByBroker(BrokerReason(code: reason, properties))
        }
        if state == .awaitingConnack {
            try handleConnack(packet, now: now, handler: handler)
            return
        }
        guard state == .connected else { throw .unexpectedPacket(packet.type, whileState: "disconnected") }
        switch packet {
        case .publish(let view):
            // This client announces Topic Alias Maximum 0: the broker may not use one (MQTT-3.3.2-9).
            if version == .v5 && view.properties.value(PropertyID.topicAlias) != nil {
                throw .protocolViolation(.invalidProperty(.publish, id: PropertyID.topicAlias, "this client allows no topic aliases"))
            }
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
        case .puback(let id, let reason, let properties):
            if reason.isFailure, let stage = window.stage(of: id), stage == .awaitingPuback || stage == .awaitingPubrec {
                refused(id, reason, properties, now: now, handler: handler)
            } else if window.complete(id, expecting: .awaitingPuback) {
                handler(.delivered(packetID: id))
            } else if window.complete(id, expecting: .awaitingPubrec) {
                // RabbitMQ's MQTT plugin downgrades QoS 2 to 1 and answers PUBACK: the message
                // was delivered, at least once.
                handler(.delivered(packetID: id))
                handler(.warning(.qos2Downgraded(id)))
            } else {
                handler(.warning(.unknownPacketID(.puback, id)))
            }
            if window.pending > window.onWire { sendWaiting(now: now, handler: handler) }
        case .pubrec(let id, let reason, let properties):
            if reason.isFailure, window.stage(of: id) == .awaitingPubrec {
                refused(id, reason, properties, now: now, handler: handler) // the flow ends: no PUBREL (4.3.3)
                sendWaiting(now: now, handler: handler)
            } else if window.received(pubrec: id) {
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
            if window.pending > window.onWire { sendWaiting(now: now, handler: handler) }
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
        case .auth:
            throw .protocolViolation(.unexpectedAuthentication)
        case .connect, .connack, .connack5, .subscribe, .unsubscribe, .pingreq, .disconnect:
            throw .unexpectedPacket(packet.type, whileState: "connected")
        }
    }

    private func handleConnack(_ packet: Packet, now: Nanoseconds, handler: (SessionEvent) -> Void) throws(SessionFailure) {
        let sessionPresent: Bool
        switch packet {
        case .connack(let present, let code):
            guard code == .accepted else { throw .refused(code) }
            // A broker that takes a 5.0 CONNECT answers in 5.0 (MQTT-3.1.2-2 and 3.2.2.2).
            guard version == .v311 else { throw .unexpectedPacket(.connack, whileState: "waiting for a 5.0 CONNACK") }
            sessionPresent = present
        case .connack5(let present, let reason, let properties):
            guard !reason.isFailure else {
                throw .rejected(
                    BrokerReason(code: reason, reasonString: properties.reasonString, serverReference: properties.serverReference))
            }
            guard properties.maximumQoS > 0 else { throw .brokerTakesQoS0Only }
            if let stated = properties.maximumPacketSize.map(Int.init), stated < configuration.minimumBrokerPacketSize {
                throw .brokerPacketLimit(stated: stated, needed: configuration.minimumBrokerPacketSize)
            }
            limits.apply(properties, configuration: configuration)
            aliases.reset(brokerMaximum: limits.topicAliasMaximum)
            sessionPresent = present
        default:
            throw .unexpectedPacket(packet.type, whileState: "waiting for CONNACK") // MQTT-3.2.0-1
        }
        state = .connected
        if !sessionPresent && configuration.connect.cleanSession { awaitingRelease.removeAll() }
        sendWaiting(now: now, handler: handler)
        handler(.connected(sessionPresent: sessionPresent))
    }

    /// A PUBLISH the broker refused: sent again after a pause if the reason passes, a few times;
    /// else given up, its slot freed.
    private func refused(_ id: UInt16, _ reason: ReasonCode, _ properties: Properties, now: Nanoseconds, handler: (SessionEvent) -> Void) {
        if RefusalAction(reason) == .retry && window.retries(of: id) < RefusalAction.maxRetries {
            let retry = window.retries(of: id) + 1
            _ = window.pause(id, until: now &+ RefusalAction.pause(afterRetry: retry))
            handler(.retrying(packetID: id, reason: reason, retry: retry))
            return
        }
        let text = properties.string(PropertyID.reasonString)
        abandon(id) { message in handler(.refused(packetID: id, reason: reason, reasonString: text, message: message)) }
    }

    /// Writes the messages waiting in the window, oldest first, as far as the broker's Receive
    /// Maximum allows: after CONNACK every unacknowledged PUBLISH and PUBREL again, in original
    /// order (MQTT-4.4.0-1), then whatever an acknowledgement or a pause's end lets go.
    func sendWaiting(now: Nanoseconds, handler: (SessionEvent) -> Void) {
        guard state == .connected else { return }
        while window.onWire < limits.sendQuota, let next = window.nextToSend(now: now) {
            switch next.stage {
            case .awaitingPuback, .awaitingPubrec:
                // Over a limit a 5.0 broker stated after the message was queued: it would end the
                // connection on it (MQTT-3.2.2-15), so it is refused here.
                if let limit = limits.maxPacketSize, next.bytes.count > limit {
                    abandon(next.id) { message in
                        handler(
                            .refused(
                                packetID: next.id, reason: .packetTooLarge,
                                reasonString: "\(next.bytes.count) bytes, over the broker's Maximum Packet Size of \(limit)",
                                message: message))
                    }
                    continue
                }
                if next.wasSent { next.bytes[0] |= 0x08 } else { next.bytes[0] &= ~0x08 } // DUP, MQTT-3.3.1-1
                if next.v5 == (version == .v5) {
                    outbound.writeBytes(UnsafeRawBufferPointer(next.bytes))
                } else {
                    reencode(UnsafeRawBufferPointer(next.bytes), from: next.v5 ? .v5 : .v311)
                }
            case .awaitingPubcomp:
                PacketEncoder.acknowledgement(.pubrel, packetID: next.id, into: outbound)
            case .done:
                break
            }
            window.markSent(index: next.index)
            lastSentAt = now
        }
    }

    /// A stored PUBLISH queued under the other version (a broker of the list that speaks only
    /// 3.1.1, or one that speaks 5.0 after such a one), written in this connection's: its 5.0
    /// properties dropped, or an empty block added.
    private func reencode(_ stored: UnsafeRawBufferPointer, from storedVersion: ProtocolVersion) {
        do throws(PacketError) {
            guard case .publish(let view)? = try PacketDecoder.decode(stored, version: storedVersion)?.packet else { return }
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            let size = stored.count + 8
            let tail = outbound.writableTail(minimum: size)
            let written = PacketEncoder.publish(
                validTopic: view.topic, payload: view.payload, qos: view.qos, retain: view.retain, dup: view.dup,
                packetID: view.packetID, properties: version == .v5 ? empty : nil, alias: 0, at: tail.baseAddress!)
            outbound.didWrite(written)
        } catch { assertionFailure("the window holds only PUBLISH packets this session encoded: \(error)") }
    }

    // MARK: Time

    /// Keep alive (section 3.1.2.10): PINGREQ when nothing was sent or received for a keep-alive
    /// period; failure when the broker does not answer in time. Also sends messages whose pause
    /// after a refusal is over.
    public func tick(now: Nanoseconds, handler: (SessionEvent) -> Void = { _ in }) throws(SessionFailure) {
        switch state {
        case .disconnected:
            return
        case .awaitingConnack:
            if now &- connectStartedAt >= configuration.connackTimeout { throw .connackTimeout }
        case .connected:
            if let ends = window.pauseEnds, ends <= now { sendWaiting(now: now, handler: handler) }
            let keepAlive = UInt64(limits.keepAlive) * 1_000_000_000
            guard keepAlive > 0 else { return }
            if let pingSentAt {
                if now &- pingSentAt >= configuration.pingTimeout(keepAlive: limits.keepAlive) { throw .keepAliveTimeout }
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
            let pause = window.pauseEnds
            let keepAlive = UInt64(limits.keepAlive) * 1_000_000_000
            guard keepAlive > 0 else { return pause }
            let ping =
                if let pingSentAt { pingSentAt &+ configuration.pingTimeout(keepAlive: limits.keepAlive) } else {
                    min(lastSentAt, lastReceivedAt) &+ keepAlive
                }
            return min(ping, pause ?? .max)
        }
    }
}
