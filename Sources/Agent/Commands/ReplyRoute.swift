import MQTT
import Syscalls

/// Where a request's reply goes, and until when the request may run: MQTT 5.0's request/response
/// (section 4.10). A request with a Response Topic is answered there, with its Correlation Data;
/// without one, on `<prefix>/<device>/reply/<command>`. A request with a Message Expiry Interval
/// that is spent before it runs (it waited behind others) is answered "expired", not run.
///
/// A Response Topic comes from whoever may publish to the command topics: it may not point the
/// reply at this device's own topics (its status, its telemetry, its commands), outside its reply
/// subtree, nor at a `$` topic. Such a request is answered on the reply topic, saying why.
struct ReplyRoute: Equatable {
    var responseTopic: String?
    var correlationData: [UInt8]?
    var expiresAt: Nanoseconds?
    /// A Response Topic that was not taken, for the reply's error.
    var refusedTopic: String?

    static let none = ReplyRoute()

    init() {}

    init(_ properties: Properties, topics: Topics, now: Nanoseconds) {
        if let expiry = properties.uint32(PropertyID.messageExpiryInterval) {
            expiresAt = now &+ UInt64(expiry) * 1_000_000_000
        }
        if let data = properties.value(PropertyID.correlationData) { correlationData = Array(data) }
        guard let topic = properties.string(PropertyID.responseTopic) else { return }
        if ReplyRoute.allowed(topic, topics: topics) { responseTopic = topic } else { refusedTopic = topic }
    }

    static func allowed(_ topic: String, topics: Topics) -> Bool {
        if topic.hasPrefix("$") { return false }
        let own = topics.devicePrefix
        return !topic.hasPrefix(own) || topic.hasPrefix(own + "reply/")
    }

    /// The reply's topic: the Response Topic, or the device's reply topic for `command`.
    func topic(for command: String, topics: Topics) -> String { responseTopic ?? topics.reply(command) }

    /// The reply's 5.0 properties: JSON's, and the request's Correlation Data.
    func properties(topics: Topics) -> MessageProperties {
        guard let correlationData else { return topics.json }
        var p = PropertyBuilder()
        p.data(PropertyID.correlationData, correlationData)
        return MessageProperties(block: topics.json.block + p.bytes)
    }
}
