/// What the session tells its driver while it processes incoming bytes.
public enum SessionEvent {
    case connected(sessionPresent: Bool)
    /// An application message from the broker; the view is valid only during the callback.
    case message(PublishView)
    /// The broker acknowledged an outgoing message: PUBACK for QoS 1, PUBCOMP for QoS 2.
    case delivered(packetID: UInt16)
    /// A 5.0 broker refused an outgoing message for good (PUBACK or PUBREC with a failure reason,
    /// or over its Maximum Packet Size): its slot is free, the view (valid during the callback)
    /// holds the message.
    case refused(packetID: UInt16, reason: ReasonCode, reasonString: String?, message: PublishView)
    /// A 5.0 broker refused a message for a reason that passes: it is sent again after a pause.
    case retrying(packetID: UInt16, reason: ReasonCode, retry: Int)
    case subscribed(packetID: UInt16, results: [SubscribeResult])
    case unsubscribed(packetID: UInt16)
    /// A PUBLISH larger than `maxIncomingPacketSize`: acknowledged and skipped, not delivered. The
    /// view's topic is valid only during the callback; its payload is empty.
    case messageTooLarge(PublishHead)
    /// Something the broker should not have sent but that does not endanger the session, such as
    /// an acknowledgement for a packet id not in flight. Reported, then ignored.
    case warning(SessionWarning)
}
