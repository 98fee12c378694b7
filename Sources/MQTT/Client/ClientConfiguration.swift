#if canImport(Glibc)
import Syscalls
import Glibc
#endif

public struct ClientConfiguration: Sendable {
    /// Tried in `brokerOrder`; a failed attempt moves on to the host's next address, then to the
    /// next broker (failover), wrapping around (BrokerRotation).
    public var brokers: [BrokerAddress]
    public var brokerOrder: BrokerOrder = .inOrder
    public var session: SessionConfiguration
    /// With `session.connect.version` 5.0: speak 3.1.1 to a broker that refuses 5.0
    /// (`mqtt.version: auto`, VersionNegotiation).
    public var versionFallback = false
    /// Used for `mqtts://` brokers.
    public var tls: TLSConfiguration = TLSConfiguration()
    public var backoff = ReconnectBackoff()
    /// TCP connect plus TLS handshake.
    public var connectTimeout: Nanoseconds = 10_000_000_000
    /// Subscribed after every connect that does not resume a session.
    public var subscriptions: [TopicSubscription] = []

    public init(brokers: [BrokerAddress], session: SessionConfiguration) {
        self.brokers = brokers
        self.session = session
    }
}
