import MQTT
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// The status and metrics messages.
extension Agent {
    /// Sets the retained status to publish at a clean stop (offline); a connect sets "online"
    /// through `DeliveryLedger.connected`. It goes before any reading (the ledger holds readings,
    /// backlog and replies back while it waits for room in the window).
    func publishStatus(online: Bool) {
        ledger.pendingStatus = online
        sendPendingStatus()
    }

    /// Publishes the pending status if the window has room; true when nothing is pending.
    @discardableResult
    func sendPendingStatus() -> Bool {
        guard let online = ledger.pendingStatus else { return true }
        guard client.isConnected else { return false }
        json.reset()
        json.beginObject()
        json.key("state"); json.string(online ? "online" : "offline")
        if online {
            json.key("version"); json.string(AgentVersion.string)
            json.key("uptime_s"); json.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
            json.key("spool_records"); json.integer(spool.unacknowledgedCount)
        }
        json.endObject()
        do {
            try client.publish(topic: topics.status, payload: json.view, qos: .atLeastOnce, retain: true)
            ledger.pendingStatus = nil
            return true
        } catch .windowFull {
            return false
        } catch {
            Log.error("the status cannot be published: \(error)")
            ledger.pendingStatus = nil
            return true
        }
    }

    /// `uptime_s`, `spool_records`, `spool_bytes`, `backlog`, the `dropped` counts: in metrics and
    /// the status reply. `dropped` is every reading that will never be delivered: the oldest unsent
    /// ones the spool let go (full, or a full disk), and new ones it could not store while no broker
    /// took them.
    func writeUptimeAndSpool(into json: inout JSONWriter) {
        json.key("uptime_s"); json.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
        json.key("spool_records"); json.integer(spool.unacknowledgedCount)
        json.key("spool_bytes"); json.integer(spool.bytesUsed)
        json.key("backlog"); json.integer(backlogCount)
        json.key("dropped"); json.integer(spool.dropped + unstored.dropped)
        json.key("dropped_oldest"); json.integer(spool.dropped)
        json.key("dropped_not_stored"); json.integer(unstored.dropped)
        json.key("published_not_stored"); json.integer(unstored.published)
    }

    /// Agent metrics on `<prefix>/<device>/metrics` (QoS 0: the next one follows anyway).
    func publishMetrics() {
        guard client.isConnected else { return }
        json.reset()
        json.beginObject()
        json.key("ts"); json.integer(wallClockMilliseconds())
        writeUptimeAndSpool(into: &json)
        json.key("discarded_bytes"); json.integer(spool.discardedBytes)
        json.key("corrupt_records"); json.integer(spool.corruptRecords)
        json.key("reconnects"); json.integer(client.reconnectCount)
        json.key("parked"); json.integer(parked.count)
        json.key("commands"); json.beginObject()
        json.key("received"); json.integer(commandInbox.received)
        json.key("duplicates"); json.integer(commandInbox.duplicates)
        json.key("dropped"); json.integer(commandInbox.dropped)
        json.key("reply_failures"); json.integer(commandCounts.replyFailures)
        json.endObject()
        json.key("publish_latency_ms"); json.beginObject()
        json.key("count"); json.integer(latency.count)
        json.key("mean"); json.number(latency.count == 0 ? 0 : Double(latency.total) / Double(latency.count) / 1e6, decimals: 2)
        json.key("max"); json.number(Double(latency.maximum) / 1e6, decimals: 2)
        json.endObject()
        json.key("sensors"); json.beginObject()
        for s in sensors {
            json.key(named: s.settings.name); json.beginObject()
            json.key("readings"); json.integer(s.readings)
            json.key("errors"); json.integer(s.errors)
            json.key("failing"); json.literal(s.consecutiveFailures > 0 ? "true" : "false")
            json.endObject()
        }
        json.endObject()
        json.endObject()
        latency = LatencyStats()
        var topic = topics.metrics
        let refusal = topic.withUTF8 { t -> PublishRefusal? in
            do throws(PublishRefusal) {
                try client.publish(topicBytes: UnsafeRawBufferPointer(t), payload: json.view, qos: .atMostOnce)
            } catch { return error }
            return nil
        }
        // Not connected any more is no news (the connection's loss was logged); anything else is.
        if let refusal, refusal != .notConnected { repeated.note("metrics", "the metrics message cannot be published: \(refusal)") }
    }

}
