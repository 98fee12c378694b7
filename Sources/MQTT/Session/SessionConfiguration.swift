import Syscalls

public struct SessionConfiguration: Sendable {
    public var connect: ConnectOptions
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once.
    public var maxInflight: Int = 32
    /// Bytes kept for re-sending unacknowledged PUBLISH packets (grows only for one larger message).
    public var inflightArenaBytes: Int = 256 * 1024
    /// Larger incoming packets are a protocol error and end the connection.
    public var maxIncomingPacketSize: Int = 1024 * 1024
    /// A limit on the packets sent, whatever the broker says: a larger PUBLISH is refused
    /// (`.tooLarge`) before it is sent, since a broker closes the connection on one and a
    /// persistent session would send it first again on every reconnect.
    public var maxOutgoingPacketSize: Int?
    /// The broker's limit when it does not state one (3.1.1 cannot; AWS IoT Core takes 128 KB). A
    /// 5.0 broker's Maximum Packet Size replaces it (`BrokerLimits`).
    public var assumedOutgoingPacketSize: Int?
    /// How long to wait for CONNACK after CONNECT was written.
    public var connackTimeout: Nanoseconds = 10_000_000_000
    /// How long to wait for PINGRESP; nil means half the keep alive, between 1 and 30 seconds.
    public var pingTimeout: Nanoseconds?

    public init(connect: ConnectOptions) { self.connect = connect }

    /// A 5.0 broker stating a smaller Maximum Packet Size is refused (SessionFailure.brokerPacketLimit):
    /// under it every message would be parked, the status too.
    public var minimumBrokerPacketSize = 0

    /// Topic aliases this client assigns at most (5.0), when the broker takes as many.
    public var maxTopicAliases = 32

    /// `pingTimeout`, or half of `keepAlive` seconds (the broker's Server Keep Alive, if it set one).
    func pingTimeout(keepAlive: UInt16) -> Nanoseconds {
        if let pingTimeout { return pingTimeout }
        let half = UInt64(keepAlive) * 500_000_000
        return min(max(half, 1_000_000_000), 30_000_000_000)
    }
}
