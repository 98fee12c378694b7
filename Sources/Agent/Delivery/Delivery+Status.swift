import MQTT
import Spool

/// The retained status, which the ledger holds back readings, backlog and replies for, and the
/// delivery figures that the metrics message and the `status` reply carry.
extension Delivery {
    /// Sets the retained status to publish at a clean stop (offline); a connect sets "online"
    /// through `DeliveryLedger.connected`. It goes before any reading (the ledger holds readings,
    /// backlog and replies back while it waits for room in the window).
    func publishStatus(online: Bool) {
        ledger.pendingStatus = online
        sendPendingStatus()
    }

    /// A status waits for room in the window: readings, backlog and replies wait behind it.
    var statusPending: Bool { ledger.pendingStatus != nil }

    /// At a clean stop, the offline status found no room: the connection is then dropped without
    /// DISCONNECT, so the broker publishes the last will ("offline") instead of keeping "online".
    var offlineStatusUnsent: Bool { ledger.pendingStatus == false }

    /// The status job and shutdown: publishes the pending status if the window has room; true when
    /// nothing is pending.
    @discardableResult
    func sendPendingStatus() -> Bool {
        guard let online = ledger.pendingStatus else { return true }
        guard client.isConnected else { return false }
        statusJSON.reset()
        statusJSON.beginObject()
        statusJSON.key("state"); statusJSON.string(online ? "online" : "offline")
        if online {
            statusJSON.key("version"); statusJSON.string(AgentVersion.string)
            statusJSON.key("uptime_s"); statusJSON.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
            statusJSON.key("spool_records"); statusJSON.integer(spool.unacknowledgedCount)
        }
        statusJSON.endObject()
        do {
            let packetID = try client.publish(
                topic: topics.status, payload: statusJSON.view, qos: .atLeastOnce, retain: true, properties: topics.json)
            if online { onlineStatusPacketID = packetID }
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

    /// `refused`: messages a 5.0 broker refused for good, by reason (`not_authorized`, …);
    /// `refusals_retried`: refusals for a reason that passes, each followed by another try.
    func writeRefusals(into json: inout JSONWriter) {
        json.key("refused"); json.beginObject()
        for (reason, count) in refusals.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            json.key(named: reason.key); json.integer(count)
        }
        json.endObject()
        json.key("refusals_retried"); json.integer(refusalRetries)
    }

    /// `spool_records`, `spool_bytes`, `backlog`, the `dropped` counts: in metrics and the status
    /// reply. `dropped` is every reading that will never be delivered: the oldest unsent ones the
    /// spool let go (full, or a full disk), and new ones it could not store while no broker took
    /// them.
    func writeSpoolCounts(into json: inout JSONWriter) {
        json.key("spool_records"); json.integer(spool.unacknowledgedCount)
        json.key("spool_bytes"); json.integer(spool.bytesUsed)
        json.key("backlog"); json.integer(backlogCount)
        json.key("dropped"); json.integer(spool.dropped + unstored.dropped)
        json.key("dropped_oldest"); json.integer(spool.dropped)
        json.key("dropped_not_stored"); json.integer(unstored.dropped)
        json.key("published_not_stored"); json.integer(unstored.published)
        if let setAsideSpool { json.key("spool_set_aside"); json.string(setAsideSpool) }
    }

    /// The metrics message's spool health and parked count.
    func writeStorageHealth(into json: inout JSONWriter) {
        json.key("discarded_bytes"); json.integer(spool.discardedBytes)
        json.key("corrupt_records"); json.integer(spool.corruptRecords)
    }

    /// Publish-to-PUBACK latency since the last call, which starts a new period.
    func writeLatency(into json: inout JSONWriter) {
        json.key("publish_latency_ms"); json.beginObject()
        json.key("count"); json.integer(latency.count)
        json.key("mean"); json.number(latency.count == 0 ? 0 : Double(latency.total) / Double(latency.count) / 1e6, decimals: 2)
        json.key("max"); json.number(Double(latency.maximum) / 1e6, decimals: 2)
        json.endObject()
        latency = LatencyStats()
    }
}
