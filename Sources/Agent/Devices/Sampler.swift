import Hardware
import MQTT
import Sensors
import Syscalls

/// The sampling component: the devices (sensors and GPIO lines, Devices.swift), each sensor's
/// deadline on its grid, the lines' timers, and what commands do to them (a reading now, another
/// interval, an output driven). What they produce goes to the recorder it was given.
final class Sampler {
    let devices: Devices
    let recorder: Recorder
    /// The sensors' earliest deadline and each one's, as their job left them (commands that move
    /// a schedule call `sensorScheduleChanged`).
    private(set) var sensorsEarliest: Nanoseconds?
    private var sensorDeadlines: [Nanoseconds] = []

    init(devices: Devices, recorder: Recorder, topics: Topics) {
        self.devices = devices
        self.recorder = recorder
        for sensor in devices.sensors { recorder.resolve(&sensor.target, topics: topics) }
        for input in devices.inputs { recorder.resolve(&input.target, topics: topics) }
        for output in devices.outputs { recorder.resolve(&output.target, topics: topics) }
    }

    var sensors: [SensorRunner] { devices.sensors }

    /// Readings taken since start, by every sensor.
    var readings: UInt64 { devices.sensors.reduce(0) { $0 + $1.readings } }

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

    private func record(sensor: SensorRunner) {
        // A reading the spool refused is counted as dropped (notStored), not as a sensor error.
        recorder.record(sensor.target, timestamp: sensor.takenAt) { json in
            for field in sensor.measurement.fields {
                json.key(field.key)
                json.number(field.value, decimals: field.decimals)
            }
        }
    }

    // MARK: Commands

    func sensor(named name: String) throws(CommandFailure) -> SensorRunner {
        guard let sensor = sensors.first(where: { $0.settings.name == name }) else {
            throw CommandFailure("no sensor named '\(name)'; sensors: \(sensors.map(\.settings.name).joined(separator: ", "))")
        }
        return sensor
    }

    /// The `read` command: a reading now, its fields in the result.
    func read(sensorNamed name: String, into result: inout JSONWriter) throws(CommandFailure) {
        let sensor = try sensor(named: name)
        do { try readNow(sensor) } catch {
            if let message = sensor.failed(error, now: MonotonicClock.now()) { Log.warning(message) }
            throw CommandFailure("\(sensor.settings.name): \(error)")
        }
        result.key("sensor"); result.string(sensor.settings.name)
        result.key("ts"); result.integer(sensor.takenAt)
        for field in sensor.measurement.fields { result.key(field.key); result.number(field.value, decimals: field.decimals) }
    }

    /// The `set-interval` command: the sensor's grid starts again from now.
    func setInterval(sensorNamed name: String, to interval: ConfigDuration, into result: inout JSONWriter) throws(CommandFailure) {
        let sensor = try sensor(named: name)
        sensor.settings.interval = interval
        sensor.nextDue = MonotonicClock.now() + interval.nanoseconds
        sensorScheduleChanged()
        result.key("sensor"); result.string(sensor.settings.name)
        result.key("interval_ms"); result.integer(interval.nanoseconds / 1_000_000)
    }

    // MARK: Figures

    /// The metrics message's `sensors` object.
    func writeSensorMetrics(into json: inout JSONWriter) {
        json.key("sensors"); json.beginObject()
        for s in sensors {
            json.key(named: s.settings.name); json.beginObject()
            json.key("readings"); json.integer(s.readings)
            json.key("errors"); json.integer(s.errors)
            json.key("failing"); json.literal(s.consecutiveFailures > 0 ? "true" : "false")
            json.endObject()
        }
        json.endObject()
    }

    /// The status reply's `sensors` array.
    func writeSensorStatus(into result: inout JSONWriter) {
        result.key("sensors"); result.beginArray()
        for s in sensors {
            result.beginObject()
            result.key("name"); result.string(s.settings.name)
            result.key("driver"); result.string(s.settings.driver)
            result.key("interval_ms"); result.integer(s.settings.interval.nanoseconds / 1_000_000)
            result.key("readings"); result.integer(s.readings)
            result.key("errors"); result.integer(s.errors)
            if let error = s.lastError { result.key("last_error"); result.string(error) }
            result.endObject()
        }
        result.endArray()
    }
}
