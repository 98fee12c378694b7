import Foundation
import MQTT
import Spool
import TestSupport

@testable import Agent

/// An agent built from a configuration on the simulated board and never started: its components
/// are real and wired as in a run, the client never connects (no broker), and the spool is in a
/// fresh directory. Component tests drive one component through its own surface.
final class ComponentRig {
    let directory = TemporaryDirectory("components")
    let agent: Agent

    init(_ extra: String = "", mqtt: String = "", sensors: String = "  - {name: air, driver: simulated, interval: 1s}") throws {
        let yaml = """
            device_id: rig
            mqtt: {brokers: [mqtt://127.0.0.1:1]\(mqtt)}
            spool: {dir: \(directory.path)/spool, durability: never}
            clock_check: false
            sensors:
            \(sensors)
            gpio:
              - {name: relay, line: GPIO20, direction: output, commandable: true}
              - {name: door, line: GPIO21, direction: input}
            \(extra)
            """
        agent = try Agent(config: YAMLDecoder.decode(AgentConfig.self, from: yaml, file: "rig.yaml"))
    }

    /// The records the spool's reader has not read yet: (name, event, JSON). Reading moves it on.
    func records() throws -> [(name: String, event: Bool, json: String)] {
        var out: [(String, Bool, String)] = []
        let live = agent.delivery.spool
        _ = try live.read(max: 10_000) { record in
            guard let parsed = AgentRecord(record.payload) else { return }
            out.append((String(decoding: parsed.name, as: UTF8.self), parsed.event, String(decoding: parsed.json, as: UTF8.self)))
        }
        return out.map { (name: $0.0, event: $0.1, json: $0.2) }
    }
}

/// A JSONWriter's text, for tests.
func text(_ write: (inout JSONWriter) throws -> Void) rethrows -> String {
    var json = JSONWriter(capacity: 4096)
    defer { json.deallocate() }
    json.beginObject()
    try write(&json)
    json.endObject()
    return String(decoding: json.view, as: UTF8.self)
}
