#if canImport(Glibc)
import Glibc
#endif

/// A board file (`boards/<name>.board.yaml`): which GPIO chip carries the header, the default
/// I2C bus, and header pin numbers and BCM names to line offsets.
public struct Board: Decodable, Equatable, Sendable {
    public var model: String
    /// A chip label (`pinctrl-bcm2711`), name (`gpiochip0`) or `simulated`.
    public var gpioChip: String
    public var gpioLines: Int
    public var i2cBus: Int
    /// Physical header pin -> BCM name.
    public var header: [String: String]
    /// BCM name -> line offset on `gpioChip`.
    public var lines: [String: Int]
    /// Simulated board only: output line -> input line it drives.
    public var wires: [String: String]
    /// Where `device_id: auto` reads the board's serial (`DeviceIdentity.defaultSources` unless given).
    public var serialFiles: [String]

    enum CodingKeys: String, CodingKey {
        case model, gpioChip = "gpio_chip", gpioLines = "gpio_lines", i2cBus = "i2c_bus", header, lines, wires
        case serialFiles = "serial_files"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        gpioChip = try c.decode(String.self, forKey: .gpioChip)
        gpioLines = try c.decodeIfPresent(Int.self, forKey: .gpioLines) ?? 54
        i2cBus = try c.decodeIfPresent(Int.self, forKey: .i2cBus) ?? 1
        header = try c.decodeIfPresent([String: String].self, forKey: .header) ?? [:]
        lines = try c.decodeIfPresent([String: Int].self, forKey: .lines) ?? [:]
        wires = try c.decodeIfPresent([String: String].self, forKey: .wires) ?? [:]
        serialFiles = try c.decodeIfPresent([String].self, forKey: .serialFiles) ?? DeviceIdentity.defaultSources
        guard !serialFiles.isEmpty, serialFiles.allSatisfy({ $0.hasPrefix("/") }) else {
            throw c.invalid(.serialFiles, "must list at least one absolute path")
        }
        guard (1...1024).contains(gpioLines) else { throw c.invalid(.gpioLines, "must be between 1 and 1024") }
        guard (0...255).contains(i2cBus) else { throw c.invalid(.i2cBus, "must be between 0 and 255") }
        for (name, offset) in lines where !(0..<gpioLines).contains(offset) {
            throw c.invalid(.lines, "\(name) is line \(offset), outside the chip's 0 to \(gpioLines - 1)")
        }
        for (pin, name) in header where lines[name] == nil {
            throw c.invalid(.header, "pin \(pin) names \(name), which is not under lines:")
        }
        for (from, to) in wires where lines[from] == nil || lines[to] == nil {
            throw c.invalid(.wires, "\(from) -> \(to): both ends must be under lines:")
        }
    }

    public var isSimulated: Bool { gpioChip == "simulated" }

    /// `pin 11` (header pin), `GPIO17` (BCM name) or `17` (line offset) -> line offset.
    public func lineOffset(_ spec: String) -> Int? {
        let trimmed = spec.split(separator: " ").map(String.init)
        if trimmed.count == 2, trimmed[0].lowercased() == "pin" {
            guard let name = header[trimmed[1]] else { return nil }
            return lines[name]
        }
        if let offset = lines[spec] ?? lines[spec.uppercased()] { return offset }
        if let offset = Int(spec), offset >= 0, offset < gpioLines { return offset }
        return nil
    }

    /// Finds a board by name (`raspberry-pi-4b`) or path. Names are looked up next to the config
    /// file, in its `boards/` folder, in /etc/edge-agent/boards, /usr/share/edge-agent/boards and
    /// next to the binary. `simulated` is built in (`Board.simulated`); a file of that name found
    /// first replaces it.
    public static func load(_ name: String, configPath: String?) throws(ConfigError) -> Board {
        let configDir =
            configPath.map { path -> String in
                guard let slash = path.lastIndex(of: "/") else { return "." }
                return String(path[..<slash])
            } ?? "."
        var candidates: [String] = []
        if name.contains("/") {
            candidates = [name.hasPrefix("/") ? name : "\(configDir)/\(name)"]
        } else {
            let file = "\(name).board.yaml"
            candidates = [
                "\(configDir)/\(file)", "\(configDir)/boards/\(file)", "/etc/edge-agent/boards/\(file)",
                "/usr/share/edge-agent/boards/\(file)",
            ]
            if let exe = executableDirectory() {
                // An installed layout, then a build tree (.build/release or .build/<triple>/release).
                candidates += [
                    "\(exe)/../share/edge-agent/boards/\(file)", "\(exe)/../../boards/\(file)", "\(exe)/../../../boards/\(file)",
                ]
            }
        }
        for path in candidates {
            guard let text = readFile(path) else { continue }
            return try YAMLDecoder.decode(Board.self, from: text, file: path)
        }
        if name == "simulated" { return Board.simulated }
        throw ConfigError(
            file: configPath ?? "", line: 0, key: "board",
            message: "board '\(name)' not found (looked in \(candidates.joined(separator: ", ")))")
    }

    /// The simulated board, and its one definition (no file in `boards/` repeats it): runs the
    /// whole agent on any Linux machine. Every sensor in the config gets a chip model on simulated
    /// I2C bus 1 that answers as its datasheet says the chip does; 54 GPIO lines with BCM names as
    /// on a Pi live on a simulated chip, and wires connect outputs to inputs (GPIO20 to GPIO21,
    /// GPIO5 to GPIO6), so a gpio-set command on an output produces an event on its input.
    static var simulated: Board {
        var lines: [String: Int] = [:]
        for i in 0..<28 { lines["GPIO\(i)"] = i }
        // The 40-pin header of every Raspberry Pi since the B+: physical pin -> BCM number.
        let pins: [(Int, Int)] = [
            (3, 2), (5, 3), (7, 4), (8, 14), (10, 15), (11, 17), (12, 18), (13, 27), (15, 22), (16, 23), (18, 24),
            (19, 10), (21, 9), (22, 25), (23, 11), (24, 8), (26, 7), (27, 0), (28, 1), (29, 5), (31, 6), (32, 12),
            (33, 13), (35, 19), (36, 16), (37, 26), (38, 20), (40, 21),
        ]
        var header: [String: String] = [:]
        for (pin, bcm) in pins { header["\(pin)"] = "GPIO\(bcm)" }
        return Board(
            model: "Simulated board", gpioChip: "simulated", gpioLines: 54, i2cBus: 1, header: header, lines: lines,
            wires: ["GPIO20": "GPIO21", "GPIO5": "GPIO6"])
    }

    init(
        model: String, gpioChip: String, gpioLines: Int, i2cBus: Int, header: [String: String], lines: [String: Int],
        wires: [String: String]
    ) {
        self.model = model; self.gpioChip = gpioChip; self.gpioLines = gpioLines; self.i2cBus = i2cBus
        self.header = header; self.lines = lines; self.wires = wires
        self.serialFiles = DeviceIdentity.defaultSources
    }
}

private func executableDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let slash = path.lastIndex(of: "/") else { return nil }
    return String(path[..<slash])
}
