/// The 5.0 properties of an outgoing message, encoded once by whoever publishes it (the agent's
/// publishers build theirs at start), so that a publish copies them and allocates nothing. Under
/// 3.1.1 they are not sent.
public struct MessageProperties: Sendable {
    /// The property block without Topic Alias and without its length.
    public let block: [UInt8]
    /// Whether the topic may be replaced by a Topic Alias (a topic published again and again).
    public let aliasable: Bool

    public init(block: [UInt8] = [], aliasable: Bool = false) {
        self.block = block
        self.aliasable = aliasable
    }

    public static let none = MessageProperties()

    /// Payload Format Indicator 1 and Content Type `application/json`, plus `extra` (user
    /// properties, a Message Expiry Interval), for messages whose payload is JSON.
    public static func json(_ extra: PropertyBuilder = PropertyBuilder(), aliasable: Bool = false) -> MessageProperties {
        var p = PropertyBuilder()
        p.byte(PropertyID.payloadFormatIndicator, 1)
        p.string(PropertyID.contentType, "application/json")
        return MessageProperties(block: p.bytes + extra.bytes, aliasable: aliasable)
    }
}
