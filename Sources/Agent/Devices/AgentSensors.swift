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
        record(name: sensor.settings.name, event: false, timestamp: sensor.takenAt, state: sensor.stateSlot) { json in
            for field in sensor.measurement.fields {
                json.key(field.key)
                json.number(field.value, decimals: field.decimals)
            }
        }
    }

    /// Stores and publishes one record (AgentRecord's layout), the JSON being `{"seq":..,"ts":..,<fields>}`
    /// with the name's own sequence number, and the newest state of slot `state` (-1: none).
    /// Returns false if it was lost (the spool refused it and no broker took it).
    @discardableResult
    func record(name: String, event: Bool, timestamp: Int64, state: Int, fields: (inout JSONWriter) -> Void) -> Bool {
        json.reset()
        var name = name
        name.withUTF8 { AgentRecord.writeHeader(name: UnsafeRawBufferPointer($0), event: event, into: &json) }
        let header = json.view.count
        json.beginObject()
        if let seq = sequences.next(name: name, event: event) { json.key("seq"); json.integer(seq) }
        json.key("ts"); json.integer(timestamp)
        fields(&json)
        if let clock, !clock.synced { json.key("clock_synced"); json.literal("false") }
        json.endObject()
        updateState(state, json: UnsafeRawBufferPointer(rebasing: json.view[header...]))
        return deliver(record: json.view, timestamp: timestamp, now: MonotonicClock.now())
    }
}
