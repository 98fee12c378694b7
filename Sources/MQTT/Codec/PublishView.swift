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

    public var topicString: String { String(decoding: topic, as: UTF8.self) }
    public var payloadBytes: [UInt8] { Array(payload) }
}
