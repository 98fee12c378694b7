import MQTT
import Syscalls

/// Where a request's reply goes, and until when the request may run: MQTT 5.0's request/response
/// (section 4.10). A request with a Response Topic is answered there, with its Correlation Data;
/// without one, on `<prefix>/<device>/reply/<command>`. A request with a Message Expiry Interval
/// that is spent before it runs (it waited behind others) is answered "expired", not run.
///
/// A Response Topic comes from whoever may publish to the command topics: it may not point the
/// reply at this device's own topics (its status, its telemetry, its commands), outside its reply
/// subtree, nor at a `$` topic. Such a request is answered on the reply topic, saying why; so is
/// one whose Response Topic or Correlation Data is over `maxBytes` (each waiting request keeps
/// them, and the queue's byte budget counts payloads only).
struct ReplyRoute: Equatable {
    var responseTopic: String?
    var correlationData: [UInt8]?
    var expiresAt: Nanoseconds?
    /// Why the request is answered on the reply topic and not run, if it is.
    var refusal: CommandInbox.Refusal?

    static let none = ReplyRoute()
    static let maxBytes = 1024

    init() {}

    init(_ properties: Properties, topics: Topics, now: Nanoseconds) {
        if let expiry = properties.uint32(PropertyID.messageExpiryInterval) {
            expiresAt = now &+ UInt64(expiry) * 1_000_000_000
        }
        let data = properties.value(PropertyID.correlationData)
        let topic = properties.value(PropertyID.responseTopic)
        guard (data?.count ?? 0) <= ReplyRoute.maxBytes, (topic?.count ?? 0) <= ReplyRoute.maxBytes else {
            refusal = .routeTooLarge(limit: ReplyRoute.maxBytes)
            return
        }
        correlationData = data.map(Array.init)
        guard let name = topic.map({ String(decoding: $0, as: UTF8.self) }) else { return }
        if ReplyRoute.allowed(name, topics: topics) { responseTopic = name } else { refusal = .responseTopicNotAllowed(name) }
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
