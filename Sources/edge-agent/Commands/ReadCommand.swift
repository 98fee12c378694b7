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
