import Hardware
import MQTT
import Sensors

/// Sampling: sensors on their grids, readings into the spool.
extension Agent {
    var sensors: [SensorRunner] { devices.sensors }

    /// Runs the sensors whose deadline has come. Each loop turn looks at every sensor's deadline
    /// in a plain array and touches only the sensors that are due (reading a sensor out of its
    /// array retains and releases it: for ten sensors, that was a tenth of a reading's cost).
    func runDueSensors(now: UInt64) {
        let sensors = devices.sensors
        if sensorDeadlines.count != sensors.count { sensorDeadlines = sensors.map(\.deadline) }
        var earliest = UInt64.max
        for index in sensorDeadlines.indices {
            if sensorDeadlines[index] <= now {
                let sensor = sensors[index]
                run(sensor, now: now)
                sensorDeadlines[index] = sensor.deadline
            }
            earliest = min(earliest, sensorDeadlines[index])
        }
        sensorsEarliest = sensorDeadlines.isEmpty ? nil : earliest
    }

    /// A command moved a sensor's schedule: the deadlines are read again on the next turn, which
    /// comes at once.
    func sensorScheduleChanged() {
        sensorDeadlines = []
        sensorsEarliest = MonotonicClock.now()
    }

    private func run(_ sensor: SensorRunner, now: UInt64) {
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

    private func finish(_ sensor: SensorRunner) {
        if let message = sensor.succeeded() { Log.notice(message) }
        record(sensor: sensor)
    }

    /// One reading now, for the `read` command: blocks for the conversion time (at most 750 ms,
    /// a DS18B20) because the reply carries the values.
    func readNow(_ sensor: SensorRunner) throws {
        defer { sensorScheduleChanged() }
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
        return deliver(record: json.view, timestamp: timestamp, now: MonotonicClock.now(), topic: target.topic, jsonStart: header)
    }
}
