/// Writes discovery configs with what every entity of the agent shares: its ids, its state topic
/// and template, availability from the retained status (`online`, `offline`, the last will) and
/// the one device. `HomeAssistantDiscovery` says what differs.
struct EntityBuilder {
    let prefix: String
    let node: String
    let topics: Topics
    let inventory: HomeAssistantDiscovery.Inventory
    private(set) var messages: [HomeAssistantDiscovery.Message] = []
    private var json = JSONWriter(capacity: 2048)

    init(prefix: String, node: String, topics: Topics, inventory: HomeAssistantDiscovery.Inventory) {
        self.prefix = prefix
        self.node = node
        self.topics = topics
        self.inventory = inventory
    }

    /// One entity. `state` names the sensor or line whose state topic it reads; nil reads the
    /// agent's metrics. `attributes` adds the reading's `seq` and `ts` as attributes.
    mutating func add(
        _ component: String, object: String, name: String, state: String?, value: String, attributes: Bool = false,
        extra: (inout JSONWriter) -> Void = { _ in }
    ) {
        let objectID = "\(node)_\(HomeAssistantDiscovery.identifier(object))"
        let stateTopic = state.map { topics.state($0) } ?? topics.metrics
        json.reset()
        json.beginObject()
        json.key("name"); json.string(name)
        json.key("unique_id"); json.string("edge-agent_\(objectID)")
        json.key("object_id"); json.string(objectID)
        json.key("state_topic"); json.string(stateTopic)
        json.key("value_template"); json.string(value)
        if attributes {
            json.key("json_attributes_topic"); json.string(stateTopic)
            json.key("json_attributes_template"); json.string("{{ {'seq': value_json.seq, 'ts': value_json.ts} | tojson }}")
        }
        json.key("availability_topic"); json.string(topics.status)
        json.key("availability_template"); json.string("{{ value_json.state }}")
        json.key("payload_available"); json.string("online")
        json.key("payload_not_available"); json.string("offline")
        extra(&json)
        json.key("device"); json.beginObject()
        json.key("identifiers"); json.beginArray(); json.string("edge-agent_\(node)"); json.endArray()
        json.key("name"); json.string(inventory.deviceID)
        json.key("model"); json.string(inventory.boardModel)
        json.key("sw_version"); json.string(inventory.version)
        json.endObject()
        json.key("origin"); json.beginObject()
        json.key("name"); json.string("edge-agent")
        json.key("sw_version"); json.string(inventory.version)
        json.endObject()
        json.endObject()
        messages.append(
            .init(topic: "\(prefix)/\(component)/\(node)/\(HomeAssistantDiscovery.identifier(object))/config", payload: Array(json.view)))
    }

    func deallocate() { json.deallocate() }
}
