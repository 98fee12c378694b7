import MQTT

/// The metrics message on `<prefix>/<device>/metrics` (QoS 0: the next one follows anyway), every
/// `metrics_interval` on a fixed grid and at once when Home Assistant's diagnostic entities need
/// it. It owns its schedule and its buffer; the figures are written by the components that keep
/// them (delivery, commands, sampling), handed in by the wiring.
final class MetricsReport {
    private let interval: UInt64
    private(set) var nextAt: UInt64
    private var json = JSONWriter()
    private var topic: String

    private let properties: MessageProperties

    init(topic: String, properties: MessageProperties, interval: UInt64, now: UInt64) {
        self.topic = topic
        self.properties = properties
        self.interval = interval
        nextAt = now + interval
    }

    deinit { json.deallocate() }

    /// The grid starts from `now`: the first one goes an interval after the loop starts.
    func restart(now: UInt64) { nextAt = now + interval }

    /// The next one goes at once (on the next loop turn).
    func sendSoon(now: UInt64 = MonotonicClock.now()) { nextAt = now }

    /// True when one is due; the grid then moves on by whole intervals.
    func isDue(now: UInt64) -> Bool {
        guard now >= nextAt else { return false }
        nextAt = nextSlot(after: nextAt, interval: interval, now: now)
        return true
    }

    /// Writes and publishes the message while connected. Not being connected any more is no news
    /// (the connection's loss was logged); any other refusal is, once per episode.
    func publish(
        client: MQTTClient, uptimeSeconds: UInt64, delivery: Delivery, commands: CommandRunner, sampler: Sampler, remote: RemoteConfig,
        repeated: RepeatedLog
    ) {
        guard client.isConnected else { return }
        json.reset()
        json.beginObject()
        json.key("ts"); json.integer(wallClockMilliseconds())
        json.key("uptime_s"); json.integer(uptimeSeconds)
        delivery.writeSpoolCounts(into: &json)
        delivery.writeStorageHealth(into: &json)
        json.key("reconnects"); json.integer(client.reconnectCount)
        json.key("client_id_takeovers"); json.integer(client.takeoverCount)
        json.key("parked"); json.integer(delivery.parked.count)
        delivery.writeRefusals(into: &json)
        commands.writeCounts(into: &json)
        delivery.writeLatency(into: &json)
        sampler.writeSensorMetrics(into: &json)
        remote.writeMetrics(into: &json)
        json.endObject()
        let refusal = topic.withUTF8 { t -> PublishRefusal? in
            do throws(PublishRefusal) {
                try client.publish(topicBytes: UnsafeRawBufferPointer(t), payload: json.view, qos: .atMostOnce, properties: properties)
            } catch { return error }
            return nil
        }
        if let refusal, refusal != .notConnected { repeated.note("metrics", "the metrics message cannot be published: \(refusal)") }
    }
}
