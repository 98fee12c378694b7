import Agent
import ArgumentParser
import Hardware
import Sensors

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Take one reading of a configured sensor and print it in units (no spool, no network).")

    @Option(help: "Configuration file.")
    var config: String

    @Argument(help: "The sensor's name in the configuration.")
    var sensor: String

    func run() throws {
        let loaded: AgentConfig
        do { loaded = try AgentConfig.load(path: config) } catch { printError("\(error)"); throw ExitCode(1) }
        do {
            let fields = try readSensorOnce(config: loaded, configPath: config, sensor: sensor)
            var text = "\(sensor):\n"
            for f in fields {
                let value = formatDecimal(f.value, decimals: f.decimals)
                text += "  \(f.key.padding(toLength: 18))\(value) \(unit(of: f.key))\n"
            }
            writeOut(text)
        } catch {
            printError("\(sensor): \(error)")
            throw ExitCode(1)
        }
    }

    func unit(of key: String) -> String {
        let units: [(String, String)] = [
            ("_c", "°C"), ("_pct", "%RH"), ("_hpa", "hPa"), ("_lux", "lx"), ("_mv", "mV"),
            ("_v", "V"), ("_a", "A"), ("_w", "W"), ("_hz", "Hz"),
        ]
        return units.first { key.hasSuffix($0.0) }?.1 ?? ""
    }
}

struct ScanI2CCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-i2c",
        abstract: "List the devices answering on an I2C bus (like i2cdetect), naming known chips by their id registers.")

    @Option(help: "The bus number N of /dev/i2c-N.")
    var bus: Int

    func run() throws {
        let i2c: LinuxI2CBus
        do { i2c = try LinuxI2CBus(number: bus) } catch { printError("\(error)"); throw ExitCode(1) }
        var text = "i2c-\(bus):\n"
        var found = 0
        for address in UInt8(0x08)...UInt8(0x77) where i2c.probe(address: address) {
            found += 1
            text += "  \(hex(address))  \(SensorCatalog.identify(bus: i2c, address: address))\n"
        }
        text += found == 0 ? "  no devices answered\n" : ""
        writeOut(text)
    }
}

extension String {
    func padding(toLength length: Int) -> String { count >= length ? self + " " : self + String(repeating: " ", count: length - count) }
}
