/// The commands' calls, each passed on to the component that owns what it reads or changes.
extension Agent: CommandTarget {
    var uptimeSeconds: UInt64 { process.uptimeSeconds }

    func writeStatus(into result: inout JSONWriter) {
        result.key("version"); result.string(AgentVersion.string)
        result.key("uptime_s"); result.integer(process.uptimeSeconds)
        delivery.writeSpoolCounts(into: &result)
        result.key("reconnects"); result.integer(client.reconnectCount)
        result.key("client_id_takeovers"); result.integer(client.takeoverCount)
        sampler.writeSensorStatus(into: &result)
        remote.writeStatus(into: &result)
    }

    func read(sensorNamed name: String, into result: inout JSONWriter) throws(CommandFailure) {
        try sampler.read(sensorNamed: name, into: &result)
    }

    func setInterval(sensorNamed name: String, to interval: ConfigDuration, into result: inout JSONWriter) throws(CommandFailure) {
        try sampler.setInterval(sensorNamed: name, to: interval, into: &result)
    }

    func setOutput(named name: String, to value: Bool?, into result: inout JSONWriter) throws(CommandFailure) {
        let output = try sampler.commandableOutput(name)
        try sampler.drive(output, to: value ?? !output.line.value, into: &result)
    }

    func pulseOutput(named name: String, milliseconds: Int, into result: inout JSONWriter) throws(CommandFailure) {
        try sampler.pulse(sampler.commandableOutput(name), milliseconds: milliseconds, into: &result)
    }

    func requestReload() throws(CommandFailure) { try process.requestReload() }

    func writeConfig(into result: inout JSONWriter) throws(CommandFailure) { try remote.get(into: &result) }

    func applyConfig(_ text: String, signature: String?, requestID: JSONValue, into result: inout JSONWriter) throws(CommandFailure) {
        let version: UInt64
        do throws(ConfigPush.Refusal) {
            version = try remote.set(text: text, signature: signature, requestID: requestID, origin: "config-set")
        } catch {
            remote.countRefusal()
            throw CommandFailure(error.message)
        }
        process.requestReexec()
        result.key("applying"); result.literal("true")
        result.key("config_version"); result.integer(version)
        result.key("confirm_within_s"); result.integer(remote.confirmWithinSeconds)
    }
}
