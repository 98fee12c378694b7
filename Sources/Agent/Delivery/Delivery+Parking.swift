import MQTT

/// Messages the broker will never take (ParkedMessages.swift keeps them): over the broker's packet
/// limit, refused by a 5.0 broker with a reason code, or given up by the client after a 3.1.1
/// broker closed the connection right after them three times (MQTT's PoisonWatch).
extension Delivery {
    /// How long a topic the broker refused a single message on stays refused before it is tried
    /// again (a policy that forbids it may be fixed meanwhile).
    static let refusedTopicPause: UInt64 = 15 * 60 * 1_000_000_000

    /// Keeps a message the broker will never take, logs it once per episode and counts it; the
    /// agent goes on with the others.
    func park(topic: String, payload: UnsafeRawBufferPointer, reason: String) {
        let problem = parked.park(topic: topic, payload: payload, reason: reason, now: wallClockMilliseconds())
        repeated.note(
            "parked messages",
            "a message on \(topic.prefix(200)) (\(payload.count) bytes) is parked in \(parked.path), not sent: \(reason)\(problem.map { "; \($0)" } ?? "")"
        )
    }

    /// Parks a message for a topic the broker refused a single message on (AWS IoT Core closes
    /// the connection on a topic its policy forbids): one refusal per topic, not three
    /// disconnects per reading. True if parked.
    func parkIfRefused(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> Bool {
        let name = String(decoding: topic, as: UTF8.self)
        guard let until = refusedTopics[name] else { return false }
        guard MonotonicClock.now() < until else {
            refusedTopics[name] = nil
            Log.notice("trying \(name) again, refused by the broker \(Delivery.refusedTopicPause / 60_000_000_000) minutes ago")
            return false
        }
        park(topic: name, payload: payload, reason: "the broker refused this topic")
        return true
    }

    /// The client gave up a message: it is parked, and the readings it carried count as handled so
    /// the cursor can pass them. A refused batch lowers the batch size (the broker's limit is
    /// unknown) and the other batches in flight over the new size are parked at once rather than
    /// after three more disconnects each; a refused single message makes its topic refused.
    func gaveUp(packetID: UInt16, topic: String, payload: UnsafeRawBufferPointer) {
        park(topic: topic, payload: payload, reason: "the broker closed the connection right after it three times in a row")
        handled(packetID: packetID, topic: topic, payload: payload, pauseTopic: true)
    }

    /// A 5.0 broker refused a message for good, saying why (PUBACK or PUBREC reason code): parked
    /// and counted by reason at once, no disconnect involved. A batch too large lowers the batch
    /// size as a refused batch does under 3.1.1.
    func refused(packetID: UInt16, topic: String, payload: UnsafeRawBufferPointer, reason: ReasonCode, reasonString: String?) {
        refusals[reason, default: 0] += 1
        let why = reasonString.map { ": \(String($0.prefix(200)).debugDescription)" } ?? ""
        park(topic: topic, payload: payload, reason: "the broker refused it: \(reason)\(why)")
        // Without a disconnect per message, refusing a topic costs the broker one PUBACK each:
        // no pause is needed, and a policy fixed meanwhile takes the very next reading.
        handled(packetID: packetID, topic: topic, payload: payload, pauseTopic: false)
    }

    /// The readings a given-up message carried count as handled, so the cursor can pass them.
    private func handled(packetID: UInt16, topic: String, payload: UnsafeRawBufferPointer, pauseTopic: Bool) {
        if spillMode, copies.acknowledge(packetID) != nil { return }
        let readings = ledger.readings(in: packetID)
        if readings <= 1 && pauseTopic {
            refusedTopics[topic] = MonotonicClock.now() + Delivery.refusedTopicPause
            Log.warning(
                "the broker refuses \(topic): further messages on it are parked for \(Delivery.refusedTopicPause / 60_000_000_000) minutes, then tried again"
            )
        }
        guard readings > 0 else { return }
        _ = ledger.acknowledged(packetID)
        if readings > 1, let limit = backlog.refused(bytes: payload.count) {
            Log.warning(
                "the broker refused a backfill batch of \(payload.count) bytes: batches are now kept under \(limit) bytes; set mqtt.max_packet_size to the broker's limit (a 5.0 broker states it itself) so that none is refused"
            )
            for id in ledger.batchIDs {
                guard let size = client.session.storedSize(of: id), size > limit + BacklogBatch.packetOverhead else { continue }
                client.session.abandon(id) { message in
                    park(topic: message.topicString, payload: message.payload, reason: "a batch as large as one the broker refused")
                }
                _ = ledger.acknowledged(id)
            }
        }
        acknowledgeDelivered()
    }
}
