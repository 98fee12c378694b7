#if canImport(Glibc)
import Glibc
#endif
import MQTT
import Spool

/// Readings from the spool to the broker, and the acknowledgements back to the spool's cursor;
/// the status and metrics messages.
extension Agent {
    func publishFromSpool() {
        guard client.isConnected else { return }
        if let pending = held {
            held = nil
            let taken = pending.bytes.withUnsafeBytes { publishRecord(seq: pending.seq, bytes: $0) }
            guard taken else { held = pending; return }
        }
        while client.session.canPublishReliably && spool.unreadCount > 0 {
            var accepted = true
            do {
                try spool.read(max: 1) { record in
                    if !publishRecord(seq: record.seq, bytes: record.payload) {
                        held = (record.seq, Array(record.payload))
                        accepted = false
                    }
                }
            } catch { Log.error("\(error)"); return }
            if !accepted { return }
        }
    }

    /// Publishes one spool record; false if the client could not take it now.
    func publishRecord(seq: UInt64, bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.first, bytes.count > 1 + Int(first & 0x7F) else {
            Log.error("spool record \(seq) is malformed; skipped")
            markDelivered(seq: seq)
            return true
        }
        let nameLength = Int(first & 0x7F)
        let name = UnsafeRawBufferPointer(rebasing: bytes[1..<(1 + nameLength)])
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(1 + nameLength)...])
        let topic = first & 0x80 != 0 ? topics.events(lineName: name) : topics.telemetry(sensorName: name)
        do {
            let id = try client.publish(topicBytes: topic, payload: payload, qos: .atLeastOnce)
            inflight.append((id, seq, false, MonotonicClock.now()))
            return true
        } catch {
            if error != .windowFull { Log.error("reading \(seq) cannot be published: \(error); skipped"); markDelivered(seq: seq); return true }
            return false
        }
    }

    func markDelivered(seq: UInt64) {
        inflight.append((0, seq, true, 0))
        acknowledgeDonePrefix()
    }

    func acknowledgeDonePrefix() {
        var through: UInt64?
        while let first = inflight.first, first.done {
            through = first.seq
            inflight.removeFirst()
        }
        if let through {
            do { try spool.ack(through: through) } catch { Log.error("\(error)") }
        }
    }

    func publishStatus(online: Bool) {
        json.reset()
        json.beginObject()
        json.key("state"); json.string(online ? "online" : "offline")
        if online {
            json.key("version"); json.string(AgentVersion.string)
            json.key("uptime_s"); json.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
            json.key("spool_records"); json.integer(spool.unacknowledgedCount)
        }
        json.endObject()
        var topic = topics.status
        statusPacketID = topic.withUTF8 { t in
            try? client.publish(topicBytes: UnsafeRawBufferPointer(t), payload: json.view, qos: .atLeastOnce, retain: true)
        }
    }

    /// Agent metrics on `<prefix>/<device>/metrics` (QoS 0: the next one follows anyway).
    func publishMetrics() {
        guard client.isConnected else { return }
        json.reset()
        json.beginObject()
        json.key("ts"); json.integer(wallClockMilliseconds())
        json.key("uptime_s"); json.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
        json.key("spool_records"); json.integer(spool.unacknowledgedCount)
        json.key("spool_bytes"); json.integer(spool.bytesUsed)
        json.key("dropped"); json.integer(spool.dropped)
        json.key("discarded_bytes"); json.integer(spool.discardedBytes)
        json.key("corrupt_records"); json.integer(spool.corruptRecords)
        json.key("reconnects"); json.integer(client.reconnectCount)
        json.key("publish_latency_ms"); json.beginObject()
        json.key("count"); json.integer(latency.count)
        json.key("mean"); json.number(latency.count == 0 ? 0 : Double(latency.total) / Double(latency.count) / 1e6, decimals: 2)
        json.key("max"); json.number(Double(latency.maximum) / 1e6, decimals: 2)
        json.endObject()
        json.key("sensors"); json.beginObject()
        for s in sensors {
            json.key(s.settings.name); json.beginObject()
            json.key("readings"); json.integer(s.readings)
            json.key("errors"); json.integer(s.errors)
            json.key("failing"); json.literal(s.consecutiveFailures > 0 ? "true" : "false")
            json.endObject()
        }
        json.endObject()
        json.endObject()
        latency = LatencyStats()
        var topic = topics.metrics
        _ = topic.withUTF8 { t in
            try? client.publish(topicBytes: UnsafeRawBufferPointer(t), payload: json.view, qos: .atMostOnce)
        }
    }

}
