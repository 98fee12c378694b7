public struct Will: Equatable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: QoS
    public var retain: Bool
    /// 5.0 only (3.1.3.2.2): seconds the broker waits after the connection is lost before it
    /// publishes the will; a client that reconnects within them cancels it.
    public var delay: UInt32 = 0
    /// 5.0 only: Payload Format Indicator 1 and this Content Type, when the payload is JSON.
    public var contentType: String?

    public init(topic: String, payload: [UInt8], qos: QoS = .atLeastOnce, retain: Bool = true) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}
