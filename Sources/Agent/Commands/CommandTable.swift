import MQTT

/// One command: its name (the topic level after `cmd/`), the fields it takes, and its handler,
/// which validates its arguments and writes the reply's `result` object's members.
struct CommandSpec: Sendable {
    let name: String
    let fields: Set<String>
    let run: @Sendable (any CommandTarget, CommandArguments, inout JSONWriter) throws -> Void

    /// The commands, in the order the README and the "unknown command" reply list them.
    static let table: [CommandSpec] = [
        CommandSpec(name: "ping", fields: []) { target, _, result in
            result.key("pong"); result.literal("true")
            result.key("uptime_s"); result.integer(target.uptimeSeconds)
        },
        CommandSpec(name: "status", fields: []) { target, _, result in target.writeStatus(into: &result) },
        CommandSpec(name: "read", fields: ["sensor"]) { target, arguments, result in
            try target.read(sensorNamed: arguments.string("sensor"), into: &result)
        },
        CommandSpec(name: "set-interval", fields: ["sensor", "interval"]) { target, arguments, result in
            let sensor = try arguments.string("sensor")
            let interval = try arguments.duration("interval", in: 10_000_000...86_400_000_000_000)
            try target.setInterval(sensorNamed: sensor, to: interval, into: &result)
        },
        CommandSpec(name: "gpio-set", fields: ["line", "value"]) { target, arguments, result in
            let line = try arguments.string("line")
            try target.setOutput(named: line, to: arguments.bool("value"), into: &result)
        },
        CommandSpec(name: "gpio-toggle", fields: ["line"]) { target, arguments, result in
            try target.setOutput(named: arguments.string("line"), to: nil, into: &result)
        },
        CommandSpec(name: "gpio-pulse", fields: ["line", "duration_ms"]) { target, arguments, result in
            let line = try arguments.string("line")
            let ms = try arguments.integer("duration_ms", in: 1...60_000)
            try target.pulseOutput(named: line, milliseconds: ms, into: &result)
        },
        CommandSpec(name: "reload", fields: []) { target, _, result in
            try target.requestReload()
            result.key("reloading"); result.literal("true")
        },
        CommandSpec(name: "config-get", fields: []) { target, _, result in try target.writeConfig(into: &result) },
        CommandSpec(name: "config-set", fields: ["config", "signature"]) { target, arguments, result in
            let text = try arguments.string("config")
            let signature = arguments.fields["signature"] == nil ? nil : try arguments.string("signature")
            try target.applyConfig(text, signature: signature, requestID: arguments.fields["id"] ?? .null, into: &result)
        },
    ]

    static var names: [String] { table.map(\.name) }
}

/// What the commands act on: one call per command, offered by the wiring (Agent), which passes
/// each on to the component that owns what it changes. Arguments are checked by the table; a
/// name that is not there, or a line that cannot be set, is a `CommandFailure` the reply carries.
protocol CommandTarget: AnyObject {
    var uptimeSeconds: UInt64 { get }
    /// The `status` reply's result.
    func writeStatus(into result: inout JSONWriter)
    func read(sensorNamed name: String, into result: inout JSONWriter) throws(CommandFailure)
    func setInterval(sensorNamed name: String, to interval: ConfigDuration, into result: inout JSONWriter) throws(CommandFailure)
    /// Sets a commandable output to `value`, or to the opposite of its level when nil.
    func setOutput(named name: String, to value: Bool?, into result: inout JSONWriter) throws(CommandFailure)
    func pulseOutput(named name: String, milliseconds: Int, into result: inout JSONWriter) throws(CommandFailure)
    /// Checks the configuration file and asks for a re-exec once the replies are out.
    func requestReload() throws(CommandFailure)
    /// `config-get`: the running configuration's text, digest and version.
    func writeConfig(into result: inout JSONWriter) throws(CommandFailure)
    /// `config-set`: checks a pushed configuration, writes it as the trial and asks for a re-exec.
    func applyConfig(_ text: String, signature: String?, requestID: JSONValue, into result: inout JSONWriter) throws(CommandFailure)
}
