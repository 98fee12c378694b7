/// The start of a PUBLISH too large to take in: its topic (a view into the input), QoS, DUP flag,
/// packet id and whole size.
public struct PublishHead {
    public let topic: UnsafeRawBufferPointer
    public let qos: QoS
    public let dup: Bool
    /// 0 for QoS 0.
    public let packetID: UInt16
    /// The whole packet, fixed header included.
    public let packetSize: Int

    public var topicString: String { String(decoding: topic, as: UTF8.self) }
}
