import Hardware
import MQTT
import Sensors

/// Sampling: sensors on their grids, readings into the spool.
extension Agent {
    var sensors: [SensorRunner] { devices.sensors }

    func runDueSensors(now: UInt64) {
        for sensor in devices.sensors {
            do {
                if let at = sensor.collectAt {
                    if at <= now, try sensor.collect(now: now) { finish(sensor) }
                } else if sensor.nextDue <= now {
                    if try sensor.begin(now: now, wallClock: wallClockMilliseconds()), try sensor.collect(now: now) { finish(sensor) }
                }
            } catch {
                if let message = sensor.failed(error, now: now) { Log.warning(message) }
            }
        }
    }

    private func finish(_ sensor: SensorRunner) {
        if let message = sensor.succeeded() { Log.notice(message) }
        record(sensor: sensor)
    }

    /// One reading now, for the `read` command: blocks for the conversion time (at most 750 ms,
    /// a DS18B20) because the reply carries the values.
    func readNow(_ sensor: SensorRunner) throws {
        try sensor.readBlocking()
        if let message = sensor.succeeded() { Log.notice(message) }
        record(sensor: sensor)
    }

    func record(sensor: SensorRunner) {
        // A reading the spool refused is counted as dropped (notStored), not as a sensor error.
        record(sensor.target, timestamp: sensor.takenAt) { json in
            for field in sensor.measurement.fields {
                json.key(field.key)
                json.number(field.value, decimals: field.decimals)
            }
        }
    }

    /// Stores and publishes one record (AgentRecord's layout) of `target`, the JSON being
    /// `{"seq":..,"ts":..,<fields>}` with its own sequence number, and makes it its newest state.
    /// Returns false if it was lost (the spool refused it and no broker took it).
    @discardableResult
    func record(_ target: borrowing RecordTarget, timestamp: Int64, fields: (inout JSONWriter) -> Void) -> Bool {
        json.reset()
        var name = target.name
        name.withUTF8 { AgentRecord.writeHeader(name: UnsafeRawBufferPointer($0), event: target.event, into: &json) }
        let header = json.view.count
        json.beginObject()
        if let counter = target.sequence { json.key("seq"); json.integer(sequences.next(counter: counter)) }
        json.key("ts"); json.integer(timestamp)
        fields(&json)
        if let clock, !clock.synced { json.key("clock_synced"); json.literal("false") }
        json.endObject()
        updateState(target.stateSlot, json: UnsafeRawBufferPointer(rebasing: json.view[header...]))
        return deliver(record: json.view, timestamp: timestamp, now: MonotonicClock.now(), topic: target.topic)
    }
}
