/// The variable header and payload of CONNECT (sections 3.1.2, 3.1.3).
public struct ConnectOptions: Equatable, Sendable {
    public var version: ProtocolVersion = .v311
    public var clientID: String
    /// 3.1.1's Clean Session; 5.0 calls the same bit Clean Start, and how long the session then
    /// lasts is `sessionExpiry`.
    public var cleanSession: Bool
    /// Seconds; 0 turns keep alive off (section 3.1.2.10).
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?
    /// 5.0 only (3.1.2.11.2): seconds the broker keeps the session after the connection ends;
    /// 0 ends it with the connection, 0xFFFFFFFF never.
    public var sessionExpiry: UInt32 = 0
    /// 5.0 only: QoS 1 and 2 messages the broker may have in flight to this client (3.1.2.11.3).
    public var receiveMaximum: UInt16?
    /// 5.0 only: the largest packet this client takes (3.1.2.11.4); the broker drops larger ones.
    public var maximumPacketSize: UInt32?
    /// 5.0 only: topic aliases the broker may use towards this client; 0 allows none.
    public var topicAliasMaximum: UInt16 = 0

    public init(
        clientID: String, cleanSession: Bool = true, keepAlive: UInt16 = 60,
        will: Will? = nil, username: String? = nil, password: [UInt8]? = nil
    ) {
        self.clientID = clientID
        self.cleanSession = cleanSession
        self.keepAlive = keepAlive
        self.will = will
        self.username = username
        self.password = password
    }
}
