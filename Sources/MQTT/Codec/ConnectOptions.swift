/// The variable header and payload of CONNECT (sections 3.1.2, 3.1.3).
public struct ConnectOptions: Equatable, Sendable {
    public var clientID: String
    public var cleanSession: Bool
    /// Seconds; 0 turns keep alive off (section 3.1.2.10).
    public var keepAlive: UInt16
    public var will: Will?
    public var username: String?
    public var password: [UInt8]?

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
