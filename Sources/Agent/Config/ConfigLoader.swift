#if canImport(Glibc)
import Glibc
#endif
import Hardware
import Sensors

extension AgentConfig {
    /// Reads, decodes and checks a config file. Checks that need no hardware and no network:
    /// names unique, I2C sensors with a bus and an address, secret files readable.
    public static func load(path: String) throws(ConfigError) -> AgentConfig {
        guard let text = readFile(path) else {
            throw ConfigError(file: path, line: 0, key: "", message: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        let config = try YAMLDecoder.decode(AgentConfig.self, from: text, file: path)
        try config.check(file: path)
        let board = try Board.load(config.board, configPath: path)
        try config.check(file: path, against: board)
        return config
    }

    func check(file: String, checkFiles: Bool = true) throws(ConfigError) {
        var names: Set<String> = []
        for (i, sensor) in sensors.enumerated() {
            guard names.insert(sensor.name).inserted else {
                throw ConfigError(file: file, line: 0, key: "sensors.\(i).name", message: "'\(sensor.name)' is used twice")
            }
            // Build the driver on a throwaway simulated bus: this checks its options without hardware.
            if sensor.driver != "simulated" {
                do { _ = try SensorCatalog.makeDriver(sensor.driver, bus: SimulatedI2CBus(number: 0), address: sensor.address?.value, options: sensor.options) }
                catch { throw ConfigError(file: file, line: 0, key: "sensors.\(i).options", message: "\(error)") }
            }
        }
        var lines: Set<String> = []
        for (i, line) in gpio.enumerated() {
            guard lines.insert(line.name).inserted, !names.contains(line.name) else {
                throw ConfigError(file: file, line: 0, key: "gpio.\(i).name", message: "'\(line.name)' is used twice")
            }
        }
        var expanderNames: Set<String> = []
        for (i, expander) in expanders.enumerated() where !expanderNames.insert(expander.name).inserted {
            throw ConfigError(file: file, line: 0, key: "expanders.\(i).name", message: "'\(expander.name)' is used twice")
        }
        for (i, line) in gpio.enumerated() {
            if let chip = line.chip, !expanderNames.contains(chip) {
                throw ConfigError(file: file, line: 0, key: "gpio.\(i).chip", message: "no expander named '\(chip)' under expanders:")
            }
        }
        if checkFiles, let passwordFile = mqtt.passwordFile, access(passwordFile, R_OK) != 0 {
            throw ConfigError(file: file, line: 0, key: "mqtt.password_file", message: "cannot read \(passwordFile)")
        }
        for broker in mqtt.brokers where !(broker.hasPrefix("mqtt://") || broker.hasPrefix("mqtts://")) {
            throw ConfigError(file: file, line: 0, key: "mqtt.brokers", message: "'\(broker)' must start with mqtt:// or mqtts://")
        }
    }
}

extension AgentConfig {
    /// Checks that need the board file: every GPIO line resolves to a line offset.
    func check(file: String, against board: Board) throws(ConfigError) {
        var used: [Int: String] = [:]
        for (i, line) in gpio.enumerated() where line.chip == nil {
            guard let offset = board.lineOffset(line.line) else {
                throw ConfigError(file: file, line: 0, key: "gpio.\(i).line",
                                  message: "'\(line.line)' is not a line of \(board.model) (use 'pin N', a name like GPIO17, or an offset)")
            }
            if let other = used[offset] {
                throw ConfigError(file: file, line: 0, key: "gpio.\(i).line", message: "'\(line.line)' is the same line as \(other)")
            }
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
