import MQTT

/// The topic names of one device, with telemetry and event topics built into reused buffers, and
/// the 5.0 properties its messages carry (unused under 3.1.1): JSON's Payload Format Indicator and
/// Content Type, and `mqtt.user_properties`; a Topic Alias on the topics published again and again.
final class Topics {
    /// For status, metrics, replies and discovery.
    let json: MessageProperties
    /// For events and states.
    let aliasedJSON: MessageProperties
    /// For telemetry: `aliasedJSON`, with `telemetry.expiry` as a Message Expiry Interval.
    let telemetryJSON: MessageProperties
    let status: String
    let metrics: String
    let commandFilter: String
    let commandPrefix: [UInt8]
    /// `<prefix>/<device>/`.
    let devicePrefix: String
    private let replyPrefix: String
    private let statePrefix: String
    private let telemetry: TopicBuilder
    private let events: TopicBuilder

    init(prefix: String, device: String, userProperties: [String: String] = [:], telemetryExpiry: UInt32? = nil) {
        var extra = PropertyBuilder()
        for (name, value) in userProperties.sorted(by: { $0.key < $1.key }) { extra.userProperty(name, value) }
        json = .json(extra)
        aliasedJSON = .json(extra, aliasable: true)
        var expiring = extra
        if let telemetryExpiry { expiring.uint32(PropertyID.messageExpiryInterval, telemetryExpiry) }
        telemetryJSON = .json(expiring, aliasable: true)
        devicePrefix = "\(prefix)/\(device)/"
        status = "\(prefix)/\(device)/status"
        metrics = "\(prefix)/\(device)/metrics"
        commandFilter = "\(prefix)/\(device)/cmd/#"
        commandPrefix = Array("\(prefix)/\(device)/cmd/".utf8)
        replyPrefix = "\(prefix)/\(device)/reply/"
        statePrefix = "\(prefix)/\(device)/state/"
        telemetry = TopicBuilder(prefix: "\(prefix)/\(device)/telemetry/")
        events = TopicBuilder(prefix: "\(prefix)/\(device)/events/")
    }

    func reply(_ command: String) -> String { replyPrefix + (command.isEmpty ? "unknown" : command) }

    /// `<prefix>/<device>/cmd/<command>`.
    func command(_ name: String) -> String { String(decoding: commandPrefix, as: UTF8.self) + name }

    /// `<prefix>/<device>/state/<name>`: the retained newest reading or level of a sensor or line.
    func state(_ name: String) -> String { statePrefix + name }

    /// `<prefix>/<device>/telemetry/<name>` or `.../events/<name>`, checked once, for a configured
    /// sensor or line. Configuration rules make every such name a valid topic level; nil (the
    /// name's topic is then built and checked on each publish, which reports a problem) if not.
    func validated(_ name: String, event: Bool) -> ValidatedTopic? {
        var name = name
        let topic = name.withUTF8 {
            event ? events(lineName: UnsafeRawBufferPointer($0)) : telemetry(sensorName: UnsafeRawBufferPointer($0))
        }
        do { return try ValidatedTopic(String(decoding: topic, as: UTF8.self), properties: event ? aliasedJSON : telemetryJSON) } catch {
            return nil
        }
    }

    /// `<prefix>/<device>/telemetry/<name>`, valid until the next call.
    func telemetry(sensorName name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { telemetry.topic(name) }

    /// `<prefix>/<device>/events/<name>`, valid until the next call.
    func events(lineName name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { events.topic(name) }
}
