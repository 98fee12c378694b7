import Sensors
import Testing

@testable import Agent

/// Discovery's payloads, ids and clearing rule, and the state slots, without a broker; the real
/// Home Assistant reads them in scripts/home-assistant-test.sh.
@Suite struct HomeAssistantDiscoveryTests {
    static let inventory = HomeAssistantDiscovery.Inventory(
        deviceID: "pi-1", boardModel: "Raspberry Pi 4 Model B", version: "9.9.9",
        sensors: [("air", [.temperature, .humidity, .pressure]), ("power", [.busVoltage, .current])],
        inputs: ["door"], counters: ["meter"], outputs: [("relay", true), ("led", false)])

    static func discovery(_ inventory: HomeAssistantDiscovery.Inventory = inventory) -> HomeAssistantDiscovery {
        HomeAssistantDiscovery(prefix: "homeassistant", topics: Topics(prefix: "edge", device: inventory.deviceID), inventory: inventory)
    }

    static func payload(_ d: HomeAssistantDiscovery, _ topic: String) throws -> JSONValue {
        let message = try #require(d.messages.first { $0.topic == topic }, "\(topic)")
        return try JSONParser.parse(message.payload)
    }

    @Test func oneConfigPerFieldLineAndHealthFigure() {
        let d = Self.discovery()
        // 5 fields, 1 input, 2 per counter, 2 outputs, 4 health figures.
        #expect(d.messages.count == 5 + 1 + 2 + 2 + 4)
        #expect(Set(d.messages.map(\.topic)).count == d.messages.count)
        #expect(d.messages.map(\.topic).contains("homeassistant/switch/pi-1/relay/config"))
        #expect(d.messages.map(\.topic).contains("homeassistant/binary_sensor/pi-1/led/config"))
        #expect(d.messages.map(\.topic).contains("homeassistant/binary_sensor/pi-1/door/config"))
    }

    @Test func aSensorFieldReadsItsStateTopicWithTheDriversUnitAndClass() throws {
        let p = try Self.payload(Self.discovery(), "homeassistant/sensor/pi-1/power_current_a/config")
        #expect(p["state_topic"] == .string("edge/pi-1/state/power"))
        #expect(p["value_template"] == .string("{{ value_json.current_a }}"))
        #expect(p["unit_of_measurement"] == .string("A"))
        #expect(p["device_class"] == .string("current"))
        #expect(p["state_class"] == .string("measurement"))
        #expect(p["unique_id"] == .string("edge-agent_pi-1_power_current_a"))
        #expect(p["availability_topic"] == .string("edge/pi-1/status"))
        #expect(p["payload_not_available"] == .string("offline"))
        #expect(p["device"]?["identifiers"] == .array([.string("edge-agent_pi-1")]))
        #expect(p["device"]?["model"] == .string("Raspberry Pi 4 Model B"))
        #expect(p["device"]?["sw_version"] == .string("9.9.9"))
    }

    @Test func aSwitchSendsTheAgentsOwnCommand() throws {
        let p = try Self.payload(Self.discovery(), "homeassistant/switch/pi-1/relay/config")
        #expect(p["command_topic"] == .string("edge/pi-1/cmd/gpio-set"))
        guard case .string(let on) = p["payload_on"], case .string(let off) = p["payload_off"] else {
            Issue.record("no payload_on/off"); return
        }
        #expect(try JSONParser.parse(Array(on.utf8)) == .object(["line": .string("relay"), "value": .bool(true)]))
        #expect(try JSONParser.parse(Array(off.utf8)) == .object(["line": .string("relay"), "value": .bool(false)]))
        #expect(p["state_on"] == .string("ON"))
    }

    @Test func healthIsDiagnosticFromTheMetricsTopic() throws {
        let p = try Self.payload(Self.discovery(), "homeassistant/sensor/pi-1/agent_uptime_s/config")
        #expect(p["entity_category"] == .string("diagnostic"))
        #expect(p["state_topic"] == .string("edge/pi-1/metrics"))
        #expect(p["unit_of_measurement"] == .string("s"))
        let counter = try Self.payload(Self.discovery(), "homeassistant/sensor/pi-1/meter_count/config")
        #expect(counter["state_class"] == .string("total_increasing"))
    }

    @Test func namesThatAreNotIdsBecomeDistinctIdsAndStayValidJSON() throws {
        #expect(HomeAssistantDiscovery.identifier("pi-1_A") == "pi-1_A")
        let dotted = HomeAssistantDiscovery.identifier("a.b")
        #expect(dotted.hasPrefix("a_b_") && dotted.count == 12)
        #expect(dotted != HomeAssistantDiscovery.identifier("a_b"))
        #expect(dotted != HomeAssistantDiscovery.identifier("a b"))
        var odd = Self.inventory
        odd.deviceID = "küche \"1\""
        odd.sensors = [("luft \"x\"", [.temperature])]
        let d = Self.discovery(odd)
        for message in d.messages {
            let levels = message.topic.split(separator: "/")
            #expect(levels.count == 5)
            #expect(
                levels[2].utf8.allSatisfy {
                    $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                })
            #expect(throws: Never.self) { try JSONParser.parse(message.payload) }
        }
        let p = try Self.payload(d, d.messages[0].topic)
        #expect(p["state_topic"] == .string("edge/küche \"1\"/state/luft \"x\""))
        #expect(p["device"]?["name"] == .string("küche \"1\""))
    }

    @Test func onlyConfigsUnderOurNodeThatWeNoLongerAnnounceAreStale() {
        let d = Self.discovery()
        #expect(d.isStale(topic: "homeassistant/sensor/pi-1/old_temperature_c/config", payloadCount: 10))
        #expect(!d.isStale(topic: "homeassistant/sensor/pi-1/old_temperature_c/config", payloadCount: 0))
        #expect(!d.isStale(topic: "homeassistant/sensor/pi-1/air_temperature_c/config", payloadCount: 10))
        #expect(!d.isStale(topic: "homeassistant/sensor/pi-2/old/config", payloadCount: 10))
        #expect(!d.isStale(topic: "other/sensor/pi-1/old/config", payloadCount: 10))
        #expect(!d.isStale(topic: "homeassistant/sensor/pi-1/old/state", payloadCount: 10))
        #expect(!d.isStale(topic: "homeassistant/sensor/pi-1/x/y/config", payloadCount: 10))
        #expect(!d.isStale(topic: "homeassistant/status", payloadCount: 6))
        #expect(
            HomeAssistantDiscovery.filters(prefix: "homeassistant", deviceID: "pi-1") == [
                "homeassistant/status", "homeassistant/+/pi-1/+/config",
            ])
    }

    @Test func stateSlotsKeepTheNewestAndRepublishOnConnect() {
        var states = CurrentStates(topics: ["edge/pi-1/state/a", "edge/pi-1/state/b"])
        let one = Array(#"{"seq":1}"#.utf8), two = Array(#"{"seq":2}"#.utf8)
        one.withUnsafeBytes { _ = states.update(0, $0) }
        two.withUnsafeBytes { _ = states.update(0, $0) }
        #expect(states.slots[0].payload == two)
        #expect(states.pendingCount == 1)
        states.published(0)
        states.published(0)
        #expect(states.pendingCount == 0)
        states.republishAll()
        #expect(states.pendingCount == 1) // b has no state yet: nothing to say
        let huge = [UInt8](repeating: 0x20, count: CurrentStates.maxPayload + 1)
        #expect(huge.withUnsafeBytes { states.update(1, $0) } == false)
        #expect(one.withUnsafeBytes { states.update(2, $0) } == false)
        #expect(states.slots[1].payload.isEmpty)
    }

    @Test func configTurnsStateTopicsOnWithDiscoveryAndRefusesThemOff() throws {
        #expect(try decodeConfig(minimal).mqtt.stateTopics == false)
        #expect(try decodeConfig(minimal).homeAssistant.discovery == false)
        let on = try decodeConfig(minimal + "\nhome_assistant:\n  discovery: true\n")
        #expect(on.mqtt.stateTopics && on.homeAssistant.prefix == "homeassistant")
        let off = minimal.replacingOccurrences(of: "  brokers:", with: "  state_topics: false\n  brokers:")
        #expect(configError(off + "\nhome_assistant:\n  discovery: true\n").map { "\($0)".contains("state_topics") } == true)
        #expect(configError(minimal + "\nhome_assistant:\n  prefix: ha/#\n") != nil)
    }
}
