/// An incoming PUBLISH, as views into the receive buffer: valid only while the handler that is
/// given it runs. Copy what must outlive it (`topicString`, `payloadBytes`).
public struct PublishView {
    public let topic: UnsafeRawBufferPointer
    public let payload: UnsafeRawBufferPointer
    public let qos: QoS
    public let retain: Bool
    public let dup: Bool
    /// 0 for QoS 0.
    public let packetID: UInt16
    /// 5.0 only (3.3.2.3): Message Expiry, Response Topic, Correlation Data and the others.
    public let properties: Properties

    public init(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool, dup: Bool, packetID: UInt16,
        properties: Properties = .none
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.dup = dup
        self.packetID = packetID
        self.properties = properties
    }

    public var topicString: String { String(decoding: topic, as: UTF8.self) }
    public var payloadBytes: [UInt8] { Array(payload) }
}
