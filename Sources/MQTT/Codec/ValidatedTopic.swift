import Syscalls

/// A topic name checked once against section 4.7's rules (`Topic.validateName`), to publish on
/// many times without checking it again: the agent makes one per sensor and line at start-up, and
/// checking every name on every publish was a tenth of the client's instructions.
public final class ValidatedTopic: @unchecked Sendable { // immutable after init
    /// The name's UTF-8 bytes, owned for the object's life.
    public let bytes: UnsafeRawBufferPointer
    /// The 5.0 property block its messages carry (Content Type and the like), owned as `bytes`
    /// is (no reference counting on the hot path); unused under 3.1.1.
    let propertyBlock: UnsafeRawBufferPointer
    /// Whether its messages may go with a Topic Alias.
    let aliasable: Bool

    public init(_ name: String, properties: MessageProperties = .none) throws(PacketError) {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(properties.block.count, 1), alignment: 1)
        properties.block.withUnsafeBytes { block.copyMemory(from: $0) }
        propertyBlock = UnsafeRawBufferPointer(rebasing: block[0..<properties.block.count])
        aliasable = properties.aliasable
        var name = name
        let problem = name.withUTF8 { Topic.validateName(UnsafeRawBufferPointer($0)) }
        if let problem { throw problem }
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(name.utf8.count, 1), alignment: 1)
        name.withUTF8 { copy.copyMemory(from: UnsafeRawBufferPointer($0)) }
        bytes = UnsafeRawBufferPointer(rebasing: copy[0..<name.utf8.count])
    }

    deinit {
        UnsafeMutableRawBufferPointer(mutating: bytes).deallocate()
        UnsafeMutableRawBufferPointer(mutating: propertyBlock).deallocate()
    }
}

extension MQTTSession {
    /// Publishes on a topic checked once, when it was made.
    public func publish(
        topic: ValidatedTopic, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        try publish(
            validName: topic.bytes, payload: payload, qos: qos, retain: retain, block: version == .v5 ? topic.propertyBlock : nil,
            aliasable: topic.aliasable, now: now)
    }
}
