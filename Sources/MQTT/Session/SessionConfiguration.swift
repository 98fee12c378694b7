import Syscalls

public struct SessionConfiguration: Sendable {
    public var connect: ConnectOptions
    /// Outgoing QoS 1/2 messages awaiting acknowledgement at once.
    public var maxInflight: Int = 32
    /// Bytes kept for re-sending unacknowledged PUBLISH packets (grows only for one larger message).
    public var inflightArenaBytes: Int = 256 * 1024
    /// Larger incoming packets are a protocol error and end the connection.
    public var maxIncomingPacketSize: Int = 1024 * 1024
    /// The broker's limit on a packet (MQTT 3.1.1 cannot announce it; AWS IoT Core takes 128 KB):
    /// a larger PUBLISH is refused (`.tooLarge`) before it is sent, since a broker closes the
    /// connection on one and a persistent session would send it first again on every reconnect.
    public var maxOutgoingPacketSize: Int?
    /// How long to wait for CONNACK after CONNECT was written.
    public var connackTimeout: Nanoseconds = 10_000_000_000
    /// How long to wait for PINGRESP; nil means half the keep alive, between 1 and 30 seconds.
    public var pingTimeout: Nanoseconds?

    public init(connect: ConnectOptions) { self.connect = connect }

    var effectivePingTimeout: Nanoseconds {
        if let pingTimeout { return pingTimeout }
        let half = UInt64(connect.keepAlive) * 500_000_000
        return min(max(half, 1_000_000_000), 30_000_000_000)
    }
}
