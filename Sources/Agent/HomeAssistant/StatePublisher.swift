import MQTT
import Sensors
import Syscalls

/// The state-topic and Home Assistant component: the retained state topics' newest payloads, the
/// discovery configs and where their publishing stands, and configs to clear. What is published,
/// when, and what comes back (Home Assistant's birth message, configs left by an earlier
/// configuration).
final class StatePublisher {
    private let client: MQTTClient
    private let repeated: RepeatedLog
    /// The retained state topics' newest payloads (CurrentStates.swift).
    private(set) var states: CurrentStates
    private let discovery: HomeAssistantDiscovery?
    /// The next discovery message to publish; `messages.count` once all are out.
    private(set) var discoveryNext = 0
    /// Config topics of entities no longer configured, to be cleared.
    private(set) var staleConfigs: [String] = []

    /// Gives every sensor, input and output its state slot (when `mqtt.state_topics` is on) and
    /// makes the discovery configs (when `home_assistant.discovery` is).
    /// 5.0 properties: states are published again and again (a Topic Alias), discovery once.
    private let stateProperties: MessageProperties
    private let discoveryProperties: MessageProperties

    init(config: AgentConfig, topics: Topics, devices: Devices, client: MQTTClient, repeated: RepeatedLog) {
        stateProperties = topics.aliasedJSON
        discoveryProperties = topics.json
        self.client = client
        self.repeated = repeated
        states = StatePublisher.currentStates(config, topics: topics, devices: devices)
        discovery = StatePublisher.homeAssistantDiscovery(config, topics: topics, devices: devices)
    }

    /// The subscriptions discovery needs (none without it).
    static func filters(_ config: AgentConfig) -> [TopicSubscription] {
        guard config.homeAssistant.discovery else { return [] }
        return HomeAssistantDiscovery.filters(prefix: config.homeAssistant.prefix, deviceID: config.deviceID)
            .map { TopicSubscription($0, qos: .atMostOnce) }
    }

    /// Slots for every sensor, input and output, in that order, when `mqtt.state_topics` is on;
    /// lines start with the level they have now, so a binary sensor or switch is never unknown.
    private static func currentStates(_ config: AgentConfig, topics: Topics, devices: Devices) -> CurrentStates {
        guard config.mqtt.stateTopics else { return CurrentStates(topics: []) }
        var names: [String] = []
        for sensor in devices.sensors { sensor.target.stateSlot = names.count; names.append(sensor.settings.name) }
        for input in devices.inputs { input.target.stateSlot = names.count; names.append(input.settings.name) }
        for output in devices.outputs { output.target.stateSlot = names.count; names.append(output.settings.name) }
        var states = CurrentStates(topics: names.map { topics.state($0) })
        var json = JSONWriter(capacity: 128)
        defer { json.deallocate() }
        func level(_ slot: Int, _ value: Bool) {
            json.reset()
            json.beginObject()
            json.key("ts"); json.integer(wallClockMilliseconds())
            json.key("state"); json.literal(value ? "true" : "false")
            json.endObject()
            states.update(slot, json.view)
        }
        for input in devices.inputs where input.settings.direction == .input { level(input.target.stateSlot, input.lastPolled) }
        for output in devices.outputs { level(output.target.stateSlot, output.line.value) }
        return states
    }

    private static func homeAssistantDiscovery(_ config: AgentConfig, topics: Topics, devices: Devices) -> HomeAssistantDiscovery? {
        guard config.homeAssistant.discovery else { return nil }
        var inventory = HomeAssistantDiscovery.Inventory(
            deviceID: config.deviceID, boardModel: devices.board.model, version: AgentVersion.string)
        for sensor in devices.sensors {
            switch sensor.driver {
            case .success(let driver): inventory.sensors.append((sensor.settings.name, driver.quantities))
            case .failure(let error): Log.warning("sensor \(sensor.settings.name): not announced to Home Assistant: \(error)")
            }
        }
        for input in devices.inputs {
            if input.settings.direction == .counter {
                inventory.counters.append(input.settings.name)
            } else {
                inventory.inputs.append(input.settings.name)
            }
        }
        inventory.outputs = devices.outputs.map { ($0.settings.name, $0.settings.commandable) }
        return HomeAssistantDiscovery(prefix: config.homeAssistant.prefix, topics: topics, inventory: inventory)
    }

    /// A record's JSON (no spool header) as the newest state of slot `slot`, published now if the
    /// broker is there, else on the next connect.
    func update(_ slot: Int, json: UnsafeRawBufferPointer) {
        guard slot >= 0 else { return }
        if !states.update(slot, json) {
            repeated.note("state too large", "a state of \(json.count) bytes is over \(CurrentStates.maxPayload); not published")
        }
    }

    /// On every connect: all states again (retained, QoS 0: the next reading or connect repeats
    /// them), and all of discovery, since a broker restarted without persistence has lost them.
    /// True when a metrics message should go now: the diagnostic entities read it, and should not
    /// wait a minute.
    func republishForConnect() -> Bool {
        states.republishAll()
        guard discovery != nil else { return false }
        discoveryNext = 0
        return true
    }

    /// When the job has something to publish (at once), if it has.
    var deadline: Nanoseconds? {
        guard client.isConnected else { return nil }
        let discoveryDue = discovery.map { discoveryNext < $0.messages.count } ?? false
        return states.pendingCount > 0 || discoveryDue || !staleConfigs.isEmpty ? MonotonicClock.now() : nil
    }

    /// The job: publishes pending states, discovery configs and clearings while connected.
    func publish() {
        guard client.isConnected else { return }
        if states.pendingCount > 0 {
            for index in states.slots.indices where states.slots[index].pending {
                let slot = states.slots[index]
                let sent = slot.topic.withUnsafeBytes { topic in
                    slot.payload.withUnsafeBytes { payload in
                        publishRetained(topic: topic, payload: payload, what: "state", properties: stateProperties)
                    }
                }
                guard sent else { return }
                states.published(index)
            }
        }
        if let discovery {
            while discoveryNext < discovery.messages.count {
                let message = discovery.messages[discoveryNext]
                var topic = message.topic
                let sent = topic.withUTF8 { t in
                    message.payload.withUnsafeBytes {
                        publishRetained(topic: UnsafeRawBufferPointer(t), payload: $0, what: "discovery", properties: discoveryProperties)
                    }
                }
                guard sent else { return }
                discoveryNext += 1
            }
        }
        while var topic = staleConfigs.first {
            let sent = topic.withUTF8 {
                publishRetained(
                    topic: UnsafeRawBufferPointer($0), payload: UnsafeRawBufferPointer(start: nil, count: 0), what: "discovery",
                    properties: discoveryProperties)
            }
            guard sent else { return }
            Log.notice("Home Assistant: \(topic) cleared; its sensor or line is no longer configured")
            staleConfigs.removeFirst()
        }
    }

    /// False only when the connection is gone (try again after the next connect); a message the
    /// broker can never take is logged once per episode and counted as done.
    private func publishRetained(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, what: String, properties: MessageProperties
    ) -> Bool {
        do throws(PublishRefusal) {
            try client.publish(topicBytes: topic, payload: payload, qos: .atMostOnce, retain: true, properties: properties)
        } catch .notConnected {
            return false
        } catch {
            repeated.note(
                "\(what) refused", "a \(what) message on \(String(decoding: topic, as: UTF8.self)) cannot be published: \(error)")
        }
        return true
    }

    /// A message on a subscription that is not the command topic: Home Assistant's birth message
    /// (announce everything again), or a config under our node from an earlier configuration.
    /// True when a metrics message should go now (as `republishForConnect`).
    func receive(topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> Bool {
        guard let discovery else { return false }
        let name = String(decoding: topic, as: UTF8.self)
        if name == discovery.birthTopic {
            guard payload.elementsEqual("online".utf8) else { return false }
            Log.info("Home Assistant started: announcing \(discovery.messages.count) entities again")
            return republishForConnect()
        } else if discovery.isStale(topic: name, payloadCount: payload.count), !staleConfigs.contains(name),
            staleConfigs.count < HomeAssistantDiscovery.maxClearings
        {
            staleConfigs.append(name)
        }
        return false
    }
}
