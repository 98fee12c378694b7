#if canImport(Glibc)
import Glibc
#endif
import MQTT

/// Commands on `<prefix>/<device>/cmd/<command>`: a JSON object with an optional `id`. Every
/// request, valid or not, gets exactly one reply on `<prefix>/<device>/reply/<command>`:
/// `{"id":…,"ok":true,"result":{…}}` or `{"id":…,"ok":false,"error":"…"}`. No command runs a shell.
extension Agent {
    static let maxRequestBytes = 4096
    static let commandNames = ["ping", "status", "read", "set-interval", "gpio-set", "gpio-toggle", "gpio-pulse", "reload"]

    struct CommandFailure: Error { let message: String }

    func handleCommand(_ command: String, payload: UnsafeRawBufferPointer) {
        var id: JSONValue = .null
        var reply = JSONWriter(capacity: 512)
        defer { reply.deallocate() }
        do {
            guard payload.count <= Agent.maxRequestBytes else {
                throw CommandFailure(message: "request of \(payload.count) bytes is larger than the limit of \(Agent.maxRequestBytes)")
            }
            let request: JSONValue
            if payload.isEmpty { request = .object([:]) } else {
                do { request = try JSONParser.parse(Array(payload)) } catch { throw CommandFailure(message: "\(error)") }
            }
            guard case .object(let fields) = request else { throw CommandFailure(message: "a request is a JSON object, not \(request.typeName)") }
            if let given = fields["id"] {
                switch given {
                case .string, .number, .null: id = given
                default: throw CommandFailure(message: "id must be a string or a number")
                }
            }
            var result = JSONWriter(capacity: 512)
            defer { result.deallocate() }
            try execute(command, fields, into: &result)
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("true")
            reply.key("result"); reply.raw(result.view)
            reply.endObject()
        } catch {
            reply.reset()
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("false")
            reply.key("error"); reply.string((error as? CommandFailure)?.message ?? "\(error)")
            reply.endObject()
            Log.info("command \(command) refused: \((error as? CommandFailure)?.message ?? "\(error)")")
        }
        var topic = topics.reply(command)
        _ = topic.withUTF8 { t in
            try? client.publish(topicBytes: UnsafeRawBufferPointer(t), payload: reply.view, qos: .atLeastOnce)
        }
    }

    private func execute(_ command: String, _ fields: [String: JSONValue], into result: inout JSONWriter) throws {
        func allow(_ names: Set<String>) throws {
            for key in fields.keys where key != "id" && !names.contains(key) {
                throw CommandFailure(message: "unknown field '\(key)' for \(command)")
            }
        }
        func string(_ key: String) throws -> String {
            guard let value = fields[key] else { throw CommandFailure(message: "\(command) needs '\(key)'") }
            guard case .string(let s) = value else { throw CommandFailure(message: "'\(key)' must be a string, not \(value.typeName)") }
            return s
        }
        func sensorNamed() throws -> SensorRunner {
            let name = try string("sensor")
            guard let sensor = sensors.first(where: { $0.settings.name == name }) else {
                throw CommandFailure(message: "no sensor named '\(name)'; sensors: \(sensors.map(\.settings.name).joined(separator: ", "))")
            }
            return sensor
        }
        result.beginObject()
        switch command {
        case "ping":
            try allow([])
            result.key("pong"); result.literal("true")
            result.key("uptime_s"); result.integer((MonotonicClock.now() - startedAt) / 1_000_000_000)
        case "status":
            try allow([])
            result.key("version"); result.string(AgentVersion.string)
            writeUptimeAndSpool(into: &result)
            result.key("reconnects"); result.integer(client.reconnectCount)
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
        case "read":
            try allow(["sensor"])
            let sensor = try sensorNamed()
            do { try readNow(sensor) } catch {
                let message = sensor.failed(error, now: MonotonicClock.now())
                if let message { Log.warning(message) }
                throw CommandFailure(message: "\(sensor.settings.name): \(error)")
            }
            result.key("sensor"); result.string(sensor.settings.name)
            result.key("ts"); result.integer(sensor.takenAt)
            for field in sensor.measurement.fields { result.key(field.key); result.number(field.value, decimals: field.decimals) }
        case "set-interval":
            try allow(["sensor", "interval"])
            let sensor = try sensorNamed()
            let interval: ConfigDuration
            switch fields["interval"] {
            case .string(let text)?:
                guard let parsed = ConfigDuration.parse(text) else { throw CommandFailure(message: "'\(text)' is not a duration; write e.g. 500ms, 10s, 5m") }
                interval = parsed
            case .number(let seconds)?:
                guard seconds >= 0 else { throw CommandFailure(message: "interval must not be negative") }
                interval = ConfigDuration(seconds: seconds)
            case let other?:
                throw CommandFailure(message: "'interval' must be a duration string or seconds, not \(other.typeName)")
            case nil:
                throw CommandFailure(message: "set-interval needs 'interval'")
            }
            guard interval.nanoseconds >= 10_000_000, interval.nanoseconds <= 86_400_000_000_000 else {
                throw CommandFailure(message: "interval must be between 10ms and 24h")
            }
            sensor.settings.interval = interval
            sensor.nextDue = MonotonicClock.now() + interval.nanoseconds
            result.key("sensor"); result.string(sensor.settings.name)
            result.key("interval_ms"); result.integer(interval.nanoseconds / 1_000_000)
        case "gpio-set", "gpio-toggle", "gpio-pulse":
            try allow(command == "gpio-set" ? ["line", "value"] : command == "gpio-pulse" ? ["line", "duration_ms"] : ["line"])
            let output = try commandableOutput(try string("line"))
            var value = !output.line.value
            if command == "gpio-set" {
                switch fields["value"] {
                case .bool(let b)?: value = b
                case .number(let n)? where n == 0 || n == 1: value = n == 1
                case let other?: throw CommandFailure(message: "'value' must be true, false, 0 or 1, not \(other.typeName == "number" ? "that number" : other.typeName)")
                case nil: throw CommandFailure(message: "gpio-set needs 'value'")
                }
            }
            if command == "gpio-pulse" {
                guard case .number(let ms)? = fields["duration_ms"] else { throw CommandFailure(message: "gpio-pulse needs 'duration_ms' (a number)") }
                guard ms >= 1, ms <= 60_000 else { throw CommandFailure(message: "duration_ms must be between 1 and 60000") }
                guard output.pulseEndsAt == nil else { throw CommandFailure(message: "'\(output.settings.name)' is already pulsing") }
                output.pulseEndsAt = MonotonicClock.now() + UInt64(ms * 1_000_000)
            }
            guard setOutput(output, to: value, source: "command") else { output.pulseEndsAt = nil; throw CommandFailure(message: "'\(output.settings.name)' could not be set; see the log") }
            result.key("line"); result.string(output.settings.name)
            result.key("value"); result.literal(value ? "true" : "false")
        case "reload":
            try allow([])
            try validateReload()
            result.key("reloading"); result.literal("true")
            reloadRequested = true
        default:
            throw CommandFailure(message: "unknown command '\(command)'; commands: \(Agent.commandNames.joined(separator: ", "))")
        }
        result.endObject()
    }

    /// Checks the configuration file before a reload: a broken file keeps the running agent as it is.
    func validateReload() throws {
        guard let path = configPath else { throw CommandFailure(message: "started without a configuration file; nothing to reload") }
        do { _ = try AgentConfig.load(path: path) }
        catch { throw CommandFailure(message: "configuration not reloaded: \(error)") }
    }
}
