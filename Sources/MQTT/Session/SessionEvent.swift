/// What the session tells its driver while it processes incoming bytes.
public enum SessionEvent {
    case connected(sessionPresent: Bool)
    /// An application message from the broker; the view is valid only during the callback.
    case message(PublishView)
    /// The broker acknowledged an outgoing message: PUBACK for QoS 1, PUBCOMP for QoS 2.
    case delivered(packetID: UInt16)
    case subscribed(packetID: UInt16, results: [SubscribeResult])
    case unsubscribed(packetID: UInt16)
    /// A PUBLISH larger than `maxIncomingPacketSize`: acknowledged and skipped, not delivered. The
    /// view's topic is valid only during the callback; its payload is empty.
    case messageTooLarge(PublishHead)
    /// Something the broker should not have sent but that does not endanger the session, such as
    /// an acknowledgement for a packet id not in flight. Reported, then ignored.
    case warning(SessionWarning)
}
