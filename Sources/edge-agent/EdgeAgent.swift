import Agent
import ArgumentParser

@main
struct EdgeAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-agent",
        abstract: "Sensor readings to MQTT, buffered on disk while the network is down.",
        version: AgentVersion.string,
        subcommands: [
            RunCommand.self, CheckConfigCommand.self, SignConfigCommand.self, ReadCommand.self, ScanI2CCommand.self, PubCommand.self,
            SubCommand.self,
            SpoolCommand.self, BenchCommand.self,
        ])
}
