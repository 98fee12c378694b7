import Agent
import ArgumentParser

/// `edge-agent check-config`: validates a config file without touching hardware or the network.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file (no hardware, no network).")

    @Option(help: "Configuration file.")
    var config: String

    func run() throws {
        let loaded: AgentConfig
        do { loaded = try AgentConfig.load(path: config) } catch { printError("\(error)"); throw ExitCode(1) }
        writeOut(
            """
            \(config): OK
              device \(loaded.deviceID) on board \(loaded.board)
              brokers: \(loaded.mqtt.brokers.joined(separator: ", "))
              topics: \(loaded.mqtt.topicPrefix)/\(loaded.deviceID)/...
              spool: \(loaded.spool.dir), \(loaded.spool.capacity.bytes >> 20) MiB, \(loaded.spool.durability.rawValue), \(loaded.spool.mode.rawValue)
              backfill: \(loaded.backfill.rate) reading(s)/s\(loaded.backfill.batch > 1 ? ", up to \(loaded.backfill.batch) per message" : "")
              sensors: \(loaded.sensors.map { "\($0.name) (\($0.driver) every \($0.interval))" }.joined(separator: ", "))
              gpio: \(loaded.gpio.map { "\($0.name) (\($0.direction.rawValue) \($0.line))" }.joined(separator: ", "))

            """)
    }
}
