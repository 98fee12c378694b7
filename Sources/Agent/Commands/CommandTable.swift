import MQTT

/// One command: its name (the topic level after `cmd/`), the fields it takes, and its handler,
/// which validates its arguments and writes the reply's `result` object's members.
struct CommandSpec: Sendable {
    let name: String
    let fields: Set<String>
    let run: @Sendable (Agent, CommandArguments, inout JSONWriter) throws -> Void
}

/// The commands, in the order the README and the "unknown command" reply list them.
extension Agent {
    static let commands: [CommandSpec] = [
        CommandSpec(name: "ping", fields: []) { agent, _, result in
            result.key("pong"); result.literal("true")
            result.key("uptime_s"); result.integer((MonotonicClock.now() - agent.startedAt) / 1_000_000_000)
        },
        CommandSpec(name: "status", fields: []) { agent, _, result in agent.writeStatus(into: &result) },
        CommandSpec(name: "read", fields: ["sensor"]) { agent, arguments, result in
            let sensor = try agent.sensor(named: arguments.string("sensor"))
            do { try agent.readNow(sensor) } catch {
                if let message = sensor.failed(error, now: MonotonicClock.now()) { Log.warning(message) }
                throw CommandFailure("\(sensor.settings.name): \(error)")
            }
            result.key("sensor"); result.string(sensor.settings.name)
            result.key("ts"); result.integer(sensor.takenAt)
            for field in sensor.measurement.fields { result.key(field.key); result.number(field.value, decimals: field.decimals) }
        },
        CommandSpec(name: "set-interval", fields: ["sensor", "interval"]) { agent, arguments, result in
            let sensor = try agent.sensor(named: arguments.string("sensor"))
            let interval = try arguments.duration("interval", in: 10_000_000...86_400_000_000_000)
            sensor.settings.interval = interval
            sensor.nextDue = MonotonicClock.now() + interval.nanoseconds
            agent.sensorScheduleChanged()
            result.key("sensor"); result.string(sensor.settings.name)
            result.key("interval_ms"); result.integer(interval.nanoseconds / 1_000_000)
        },
        CommandSpec(name: "gpio-set", fields: ["line", "value"]) { agent, arguments, result in
            let output = try agent.commandableOutput(arguments.string("line"))
            try agent.drive(output, to: arguments.bool("value"), into: &result)
        },
        CommandSpec(name: "gpio-toggle", fields: ["line"]) { agent, arguments, result in
            let output = try agent.commandableOutput(arguments.string("line"))
            try agent.drive(output, to: !output.line.value, into: &result)
        },
        CommandSpec(name: "gpio-pulse", fields: ["line", "duration_ms"]) { agent, arguments, result in
            let output = try agent.commandableOutput(arguments.string("line"))
            let ms = try arguments.integer("duration_ms", in: 1...60_000)
            guard output.pulseEndsAt == nil else { throw CommandFailure("'\(output.settings.name)' is already pulsing") }
            output.pulseEndsAt = MonotonicClock.now() + UInt64(ms) * 1_000_000
            do { try agent.drive(output, to: !output.line.value, into: &result) } catch { output.pulseEndsAt = nil; throw error }
        },
        CommandSpec(name: "reload", fields: []) { agent, _, result in
            try agent.validateReload()
            result.key("reloading"); result.literal("true")
            agent.reloadRequested = true
        },
    ]

    static var commandNames: [String] { commands.map(\.name) }

    func sensor(named name: String) throws(CommandFailure) -> SensorRunner {
        guard let sensor = sensors.first(where: { $0.settings.name == name }) else {
            throw CommandFailure("no sensor named '\(name)'; sensors: \(sensors.map(\.settings.name).joined(separator: ", "))")
        }
        return sensor
    }

    /// Sets a commanded output and writes the line and its new value.
    func drive(_ output: OutputLine, to value: Bool, into result: inout JSONWriter) throws(CommandFailure) {
        guard setOutput(output, to: value, source: "command") else {
            throw CommandFailure("'\(output.settings.name)' could not be set; see the log")
        }
        result.key("line"); result.string(output.settings.name)
        result.key("value"); result.literal(value ? "true" : "false")
    }

    /// The status reply's result.
    func writeStatus(into result: inout JSONWriter) {
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
    }

    /// Checks the configuration file before a reload: a broken file keeps the running agent as it is.
    func validateReload() throws(CommandFailure) {
        guard let path = configPath else { throw CommandFailure("started without a configuration file; nothing to reload") }
        do { _ = try AgentConfig.load(path: path) } catch { throw CommandFailure("configuration not reloaded: \(error)") }
    }
}
