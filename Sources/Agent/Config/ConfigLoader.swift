import Hardware
import MQTT
import Sensors

#if canImport(Glibc)
import Glibc
#endif

extension AgentConfig {
    /// Reads, decodes and checks a config file: everything `run` would refuse or trip over, short
    /// of touching hardware or the network. `checkFiles: false` skips the files it names (secrets,
    /// certificates), for a reference file checked away from its device.
    public static func load(path: String, checkFiles: Bool = true) throws(ConfigError) -> AgentConfig {
        guard let text = readFile(path) else {
            throw ConfigError(file: path, line: 0, key: "", message: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        return try load(root: YAMLDecoder.parse(text, file: path), file: path, configPath: path, checkFiles: checkFiles)
    }

    /// The same checks on a tree already parsed: `file` names it in errors (`config-set` for a
    /// pushed configuration), `configPath` is where relative board files are found.
    static func load(root: YAMLNode, file: String, configPath: String, checkFiles: Bool = true) throws(ConfigError) -> AgentConfig {
        var (config, lines) = try YAMLDecoder.decodeWithLines(AgentConfig.self, root: root, file: file)
        let board: Board
        do { board = try Board.load(config.board, configPath: configPath) } catch {
            throw error.file == configPath ? lines.error(error.key, error.message) : error
        }
        try config.resolveDeviceID(lines, board: board)
        try config.check(lines, checkFiles: checkFiles)
        try config.check(lines, against: board)
        return config
    }

    /// `device_id: auto` or an id with `{serial}` in it: the board's serial put in, and where it came
    /// from kept for the start-up log.
    mutating func resolveDeviceID(_ lines: ConfigLines, board: Board) throws(ConfigError) {
        guard DeviceIdentity.needsSerial(deviceID) else { return }
        switch DeviceIdentity.serial(sources: board.serialFiles) {
        case .success(let found):
            let resolved = DeviceIdentity.resolve(deviceID, serial: found.serial)
            if let problem = TopicLevel.problem(resolved) {
                throw lines.error("device_id", "'\(resolved)' (with the board's serial from \(found.source)) \(problem)")
            }
            deviceID = resolved
            deviceIDSource = found.source
        case .failure(let notFound):
            throw lines.error("device_id", "\(notFound); give the id itself or list where it is under serial_files: in the board file")
        }
    }

    func check(_ lines: ConfigLines, checkFiles: Bool = true) throws(ConfigError) {
        var names: Set<String> = []
        for (i, sensor) in sensors.enumerated() {
            guard names.insert(sensor.name).inserted else { throw lines.error("sensors.\(i).name", "'\(sensor.name)' is used twice") }
            // Build the driver on a throwaway simulated bus: this checks its options without hardware.
            if sensor.driver != "simulated" {
                do {
                    _ = try SensorCatalog.makeDriver(
                        sensor.driver, bus: SimulatedI2CBus(number: 0), address: sensor.address?.value, options: sensor.options)
                } catch { throw lines.error("sensors.\(i).options", "\(error)") }
            }
        }
        for (i, line) in gpio.enumerated() where !names.insert(line.name).inserted {
            throw lines.error("gpio.\(i).name", "'\(line.name)' is used twice")
        }
        var expanderNames: Set<String> = []
        for (i, expander) in expanders.enumerated() where !expanderNames.insert(expander.name).inserted {
            throw lines.error("expanders.\(i).name", "'\(expander.name)' is used twice")
        }
        for (i, line) in gpio.enumerated() {
            if let chip = line.chip, !expanderNames.contains(chip) {
                throw lines.error("gpio.\(i).chip", "no expander named '\(chip)' under expanders:")
            }
        }
        for (i, broker) in mqtt.brokers.enumerated() {
            guard broker.hasPrefix("mqtt://") || broker.hasPrefix("mqtts://"), BrokerAddress(url: broker) != nil else {
                throw lines.error("mqtt.brokers.\(i)", "'\(broker)' is not a broker URL: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
            }
        }
        // Every topic the agent publishes or subscribes to, as the MQTT layer will check it.
        for (key, topic) in [
            ("device_id", "\(mqtt.topicPrefix)/\(deviceID)/status"), ("mqtt.topic_prefix", "\(mqtt.topicPrefix)/\(deviceID)/cmd/#"),
        ] {
            if let problem = Topic.validateFilter(topic) { throw lines.error(key, "\(problem)") }
        }
        if let clientID = mqtt.clientID, clientID.isEmpty || clientID.utf8.count > 65_535 {
            throw lines.error("mqtt.client_id", "must be 1 to 65535 bytes")
        }
        guard checkFiles else { return }
        if let passwordFile = mqtt.passwordFile, access(passwordFile, R_OK) != 0 {
            throw lines.error("mqtt.password_file", "cannot read \(passwordFile): \(String(cString: strerror(errno)))")
        }
        try checkTLS(lines)
        if remoteConfig.enabled, let key = remoteConfig.publicKey {
            do { _ = try ConfigSignature.PublicKey(file: key) } catch { throw lines.error("remote_config.public_key", error.description) }
        }
    }

    /// TLS files exist, are readable, parse as PEM, and the key matches the certificate: the same
    /// OpenSSL context `run` builds, so a file it would refuse is refused here, with its key.
    private func checkTLS(_ lines: ConfigLines) throws(ConfigError) {
        guard let tls = mqtt.tls ?? (mqtt.brokers.contains { $0.hasPrefix("mqtts://") } ? TLSSettings.defaults : nil) else { return }
        for (key, file) in [("ca_file", tls.caFile), ("cert_file", tls.certFile), ("key_file", tls.keyFile)] {
            guard let file else { continue }
            if access(file, R_OK) != 0 { throw lines.error("mqtt.tls.\(key)", "cannot read \(file): \(String(cString: strerror(errno)))") }
        }
        var configuration = TLSConfiguration()
        configuration.caFile = tls.caFile
        configuration.certificateFile = tls.certFile
        configuration.keyFile = tls.keyFile
        do { _ = try TLSContext(configuration) } catch {
            let text = "\(error)"
            let key =
                text.contains("CA certificates") || text.contains("trust store")
                ? "ca_file" : text.contains("client key") ? "key_file" : "cert_file"
            throw lines.error("mqtt.tls.\(key)", text)
        }
    }

    /// Checks that need the board file: every GPIO line resolves to a line offset, used once.
    func check(_ lines: ConfigLines, against board: Board) throws(ConfigError) {
        var used: [Int: String] = [:]
        for (i, line) in gpio.enumerated() where line.chip == nil {
            guard let offset = board.lineOffset(line.line) else {
                throw lines.error(
                    "gpio.\(i).line", "'\(line.line)' is not a line of \(board.model) (use 'pin N', a name like GPIO17, or an offset)")
            }
            if let other = used[offset] { throw lines.error("gpio.\(i).line", "'\(line.line)' is the same line as \(other)") }
            used[offset] = line.name
        }
    }
}

/// A whole small file as text, or nil.
public func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}
