import Sensors

/// Home Assistant's MQTT discovery messages for one agent, the one owner of their format: a
/// retained `<prefix>/<component>/<node>/<object>/config` per entity, all on one device. A value
/// with no I/O: the agent publishes `messages` on every connect and when Home Assistant restarts,
/// and clears (an empty retained message) any config under its node that `isStale` says it no
/// longer announces, which is how an entity leaves when its sensor or line leaves the file.
///
/// Entities read the retained state topics (`<prefix>/<device>/state/<name>`), never telemetry:
/// Home Assistant takes a message's arrival as the state's time, and a backfilled reading is old.
struct HomeAssistantDiscovery {
    struct Message: Equatable {
        let topic: String
        let payload: [UInt8]
    }

    /// What the agent runs, as discovery needs to know it.
    struct Inventory {
        var deviceID: String
        var boardModel: String
        var version: String
        var sensors: [(name: String, quantities: [Quantity])] = []
        var inputs: [String] = []
        var counters: [String] = []
        var outputs: [(name: String, commandable: Bool)] = []
    }

    /// Clearings waiting at once, at most: a broker that sends configs without end cannot grow the list.
    static let maxClearings = 1024

    let prefix: String
    let nodeID: String
    let messages: [Message]
    private let announced: Set<String>

    /// Home Assistant publishes `online` here when it (re)starts and has lost what it was told.
    var birthTopic: String { HomeAssistantDiscovery.birthTopic(prefix: prefix) }

    static func birthTopic(prefix: String) -> String { "\(prefix)/status" }

    /// The agent subscribes to its birth topic, and to every config retained under its node, ours
    /// or a previous configuration's (QoS 0: they come again on every connect).
    static func filters(prefix: String, deviceID: String) -> [String] {
        [birthTopic(prefix: prefix), "\(prefix)/+/\(identifier(deviceID))/+/config"]
    }

    init(prefix: String, topics: Topics, inventory: Inventory) {
        self.prefix = prefix
        nodeID = HomeAssistantDiscovery.identifier(inventory.deviceID)
        var builder = EntityBuilder(prefix: prefix, node: nodeID, topics: topics, inventory: inventory)
        for sensor in inventory.sensors {
            for q in sensor.quantities {
                builder.add(
                    "sensor", object: "\(sensor.name)_\(q.keyString)", name: "\(sensor.name) \("\(q.label)".lowercased())",
                    state: sensor.name, value: "{{ value_json.\(q.keyString) }}", attributes: true
                ) { json in
                    json.key("unit_of_measurement"); json.string("\(q.unit)")
                    if let deviceClass = q.deviceClass { json.key("device_class"); json.string("\(deviceClass)") }
                    json.key("state_class"); json.string("measurement")
                }
            }
        }
        let onOff = "{{ 'ON' if value_json.state else 'OFF' }}"
        for input in inventory.inputs { builder.add("binary_sensor", object: input, name: input, state: input, value: onOff) }
        for counter in inventory.counters {
            builder.add("sensor", object: "\(counter)_count", name: "\(counter) count", state: counter, value: "{{ value_json.count }}") {
                $0.key("state_class"); $0.string("total_increasing")
            }
            builder.add(
                "sensor", object: "\(counter)_frequency", name: "\(counter) frequency", state: counter,
                value: "{{ value_json.frequency_hz }}"
            ) { json in
                json.key("unit_of_measurement"); json.string("Hz")
                json.key("device_class"); json.string("frequency")
                json.key("state_class"); json.string("measurement")
            }
        }
        for output in inventory.outputs {
            guard output.commandable else {
                builder.add("binary_sensor", object: output.name, name: output.name, state: output.name, value: onOff)
                continue
            }
            let command = topics.command("gpio-set")
            builder.add("switch", object: output.name, name: output.name, state: output.name, value: onOff) { json in
                json.key("command_topic"); json.string(command)
                json.key("payload_on"); json.string(HomeAssistantDiscovery.gpioSet(output.name, true))
                json.key("payload_off"); json.string(HomeAssistantDiscovery.gpioSet(output.name, false))
                json.key("state_on"); json.string("ON")
                json.key("state_off"); json.string("OFF")
            }
        }
        for health in HomeAssistantDiscovery.health {
            builder.add("sensor", object: "agent_\(health.key)", name: health.name, state: nil, value: "{{ value_json.\(health.key) }}") {
                json in
                json.key("entity_category"); json.string("diagnostic")
                json.key("state_class"); json.string(health.stateClass)
                if let unit = health.unit { json.key("unit_of_measurement"); json.string(unit) }
                if let deviceClass = health.deviceClass { json.key("device_class"); json.string(deviceClass) }
            }
        }
        messages = builder.messages
        builder.deallocate()
        announced = Set(messages.map(\.topic))
    }

    /// The agent's own health, from its metrics message.
    static let health: [(key: String, name: String, stateClass: String, unit: String?, deviceClass: String?)] = [
        ("backlog", "backlog", "measurement", nil, nil),
        ("dropped", "dropped readings", "total_increasing", nil, nil),
        ("reconnects", "reconnects", "total_increasing", nil, nil),
        ("uptime_s", "uptime", "total_increasing", "s", "duration"),
    ]

    /// A config topic under this node that is not announced now: a removed sensor's or line's,
    /// to be cleared. Empty payloads are clearings already done.
    func isStale(topic: String, payloadCount: Int) -> Bool {
        guard payloadCount > 0, !announced.contains(topic) else { return false }
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        let own = prefix.split(separator: "/", omittingEmptySubsequences: false)
        return levels.count == own.count + 4 && levels.starts(with: own) && levels[own.count + 1] == nodeID
            && levels[own.count + 3] == "config"
    }

    /// The gpio-set request a switch sends: the agent's command, answered on its reply topic.
    static func gpioSet(_ line: String, _ value: Bool) -> String {
        var json = JSONWriter(capacity: 128)
        defer { json.deallocate() }
        json.beginObject()
        json.key("line"); json.string(line)
        json.key("value"); json.literal(value ? "true" : "false")
        json.endObject()
        return String(decoding: json.view, as: UTF8.self)
    }

    /// Node and object ids may hold only `[a-zA-Z0-9_-]`. Anything else becomes `_`, and a name
    /// that had to change gets its FNV-1a hash appended, so `a.b` and `a_b` stay two entities.
    static func identifier(_ name: String) -> String {
        var changed = false
        let kept = String(
            decoding: name.utf8.map { b -> UInt8 in
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "_"), UInt8(ascii: "-"):
                    return b
                default:
                    changed = true
                    return UInt8(ascii: "_")
                }
            }, as: UTF8.self)
        guard changed else { return kept }
        var hash: UInt32 = 0x811C_9DC5
        for b in name.utf8 { hash = (hash ^ UInt32(b)) &* 0x0100_0193 }
        let hex = String(hash, radix: 16)
        return kept + "_" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
