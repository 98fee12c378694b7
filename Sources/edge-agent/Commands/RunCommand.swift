import Agent
import ArgumentParser
import MQTT

/// `edge-agent run`: the daemon.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the agent.")

    @Option(help: "Configuration file.")
    var config: String

    @Option(name: .customLong("broker"), help: "Broker URL, mqtt[s]://HOST:PORT, overriding the file's (repeat for failover).")
    var brokers: [String] = []

    @Option(name: .customLong("device-id"), help: "Device id, overriding the file's: one file serves a fleet.")
    var deviceID: String?

    @Option(name: .customLong("spool-dir"), help: "Spool directory, overriding the file's.")
    var spoolDir: String?

    @Flag(help: "Log debug messages too.")
    var verbose = false

    func run() throws {
        // The local file, or a configuration pushed over MQTT (remote_config) that replaces it.
        var starting: StartingConfig
        do { starting = try AgentConfig.starting(path: config) } catch { printError("\(error)"); throw ExitCode(1) }
        var loaded: AgentConfig {
            get { starting.config }
            set { starting.config = newValue }
        }
        if !brokers.isEmpty {
            for b in brokers where BrokerAddress(url: b) == nil { throw ValidationError("bad broker URL '\(b)'") }
            loaded.mqtt.brokers = brokers
        }
        if let deviceID { loaded.deviceID = deviceID }
        if let spoolDir { loaded.spool.dir = spoolDir }
        if verbose { Log.minimum = .debug }
        let agent: Agent
        do { agent = try Agent(starting: starting, configPath: config) } catch { printError("\(error)"); throw ExitCode(1) }
        let code = agent.run()
        if code != 0 { throw ExitCode(code) }
    }
}
