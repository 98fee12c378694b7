/// What a 5.0 broker states in CONNACK (section 3.2.2.3), with the defaults the specification gives
/// a property that is absent.
public struct ConnackProperties: Equatable, Sendable {
    /// Seconds the broker keeps the session, when it changes the one asked for.
    public var sessionExpiry: UInt32?
    /// QoS 1 and 2 messages the broker takes in flight at once from this client.
    public var receiveMaximum: UInt16 = 65_535
    /// 0, 1 or 2: the highest QoS the broker takes.
    public var maximumQoS: UInt8 = 2
    public var retainAvailable = true
    /// The largest packet the broker takes; nil for no limit beyond the protocol's.
    public var maximumPacketSize: UInt32?
    /// The client identifier the broker chose, when the client sent an empty one.
    public var assignedClientIdentifier: String?
    /// Topic aliases this client may use towards the broker; 0 for none.
    public var topicAliasMaximum: UInt16 = 0
    public var reasonString: String?
    /// Keep alive the broker imposes, replacing the one asked for.
    public var serverKeepAlive: UInt16?
    /// Another broker to use (with reason code 0x9C or 0x9D): "host[:port]", maybe several.
    public var serverReference: String?
    public var wildcardSubscriptionAvailable = true
    public var sharedSubscriptionAvailable = true

    public init() {}

    init(_ properties: Properties) {
        properties.forEach { id, value in
            func u16() -> UInt16 { UInt16(value[0]) << 8 | UInt16(value[1]) }
            func u32() -> UInt32 { UInt32(value[0]) << 24 | UInt32(value[1]) << 16 | UInt32(value[2]) << 8 | UInt32(value[3]) }
            func text() -> String { String(decoding: value, as: UTF8.self) }
            switch id {
            case PropertyID.sessionExpiryInterval: sessionExpiry = u32()
            case PropertyID.receiveMaximum: receiveMaximum = u16()
            case PropertyID.maximumQoS: maximumQoS = value[0]
            case PropertyID.retainAvailable: retainAvailable = value[0] == 1
            case PropertyID.maximumPacketSize: maximumPacketSize = u32()
            case PropertyID.assignedClientIdentifier: assignedClientIdentifier = text()
            case PropertyID.topicAliasMaximum: topicAliasMaximum = u16()
            case PropertyID.reasonString: reasonString = text()
            case PropertyID.serverKeepAlive: serverKeepAlive = u16()
            case PropertyID.serverReference: serverReference = text()
            case PropertyID.wildcardSubscriptionAvailable: wildcardSubscriptionAvailable = value[0] == 1
            case PropertyID.sharedSubscriptionAvailable: sharedSubscriptionAvailable = value[0] == 1
            default: break
            }
        }
    }
}
