#if canImport(Glibc)
import Glibc
#endif

extension AgentConfig {
    /// Reads, decodes and checks a config file. Checks that need no hardware and no network:
    /// names unique, I2C sensors with a bus and an address, secret files readable.
    public static func load(path: String) throws(ConfigError) -> AgentConfig {
        guard let text = readFile(path) else {
            throw ConfigError(file: path, line: 0, key: "", message: "cannot read the file: \(String(cString: strerror(errno)))")
        }
        let config = try YAMLDecoder.decode(AgentConfig.self, from: text, file: path)
        try config.check(file: path)
        return config
    }

    func check(file: String, checkFiles: Bool = true) throws(ConfigError) {
        var names: Set<String> = []
        for (i, sensor) in sensors.enumerated() {
            guard names.insert(sensor.name).inserted else {
                throw ConfigError(file: file, line: 0, key: "sensors.\(i).name", message: "'\(sensor.name)' is used twice")
            }
            let i2c = !["ds18b20", "simulated"].contains(sensor.driver)
            if i2c && (sensor.bus == nil || sensor.address == nil) {
                throw ConfigError(file: file, line: 0, key: "sensors.\(i)", message: "driver \(sensor.driver) needs bus and address")
            }
        }
        var lines: Set<String> = []
        for (i, line) in gpio.enumerated() {
            guard lines.insert(line.name).inserted, !names.contains(line.name) else {
                throw ConfigError(file: file, line: 0, key: "gpio.\(i).name", message: "'\(line.name)' is used twice")
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
