import Sensors
import Spool

public struct MQTTSettings: Decodable, Equatable, Sendable {
    public enum BrokerOrder: String, Decodable, Sendable { case inOrder = "in-order", spread }

    /// `mqtt://host:port` or `mqtts://host:port`; several for failover.
    public var brokers: [String]
    /// `in-order`: the first broker while it works (a primary and its standby); `spread`: an order
    /// of each device's own, from its client id, so a fleet spreads over a cluster's nodes.
    public var brokerOrder: BrokerOrder
    public var clientID: String?
    /// Topics are `<prefix>/<device>/...`.
    public var topicPrefix: String
    public var keepAlive: ConfigDuration
    public var username: String?
    /// Secrets come from a file or an environment variable, never inline.
    public var passwordFile: String?
    public var passwordEnv: String?
    public var tls: TLSSettings?
    public var inflight: Int
    public var reconnectMin: ConfigDuration
    public var reconnectMax: ConfigDuration
    /// The broker's packet limit: larger messages are never sent (parked instead), backfill batches
    /// are cut to fit. 128 KiB, AWS IoT Core's limit, by default.
    public var maxPacketSize: ByteSize
    /// A retained `<prefix>/<device>/state/<name>` per sensor and line with its newest reading or
    /// level (never a backfilled one); on by default with Home Assistant discovery.
    public var stateTopics: Bool
    /// `state_topics` as the file gave it, nil when it did not.
    var stateTopicsGiven: Bool?

    static let minimumPacketSize = 512

    enum CodingKeys: String, CodingKey {
        case brokers, brokerOrder = "broker_order", clientID = "client_id", topicPrefix = "topic_prefix", keepAlive = "keep_alive", username
        case passwordFile = "password_file", passwordEnv = "password_env", password, tls, inflight
        case reconnectMin = "reconnect_min", reconnectMax = "reconnect_max", maxPacketSize = "max_packet_size"
        case stateTopics = "state_topics"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.password) {
            throw c.invalid(.password, "passwords are not kept in the config file; use password_file or password_env")
        }
        brokers = try c.decode([String].self, forKey: .brokers)
        guard !brokers.isEmpty else {
            throw c.invalid(.brokers, "at least one broker is needed")
        }
        brokerOrder = try c.decodeIfPresent(BrokerOrder.self, forKey: .brokerOrder) ?? .inOrder
        clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
        topicPrefix = try c.decodeIfPresent(String.self, forKey: .topicPrefix) ?? "edge"
        if let problem = TopicLevel.prefixProblem(topicPrefix) { throw c.invalid(.topicPrefix, problem) }
        keepAlive = try c.decodeIfPresent(ConfigDuration.self, forKey: .keepAlive) ?? ConfigDuration.seconds(30)
        username = try c.decodeIfPresent(String.self, forKey: .username)
        passwordFile = try c.decodeIfPresent(String.self, forKey: .passwordFile)
        passwordEnv = try c.decodeIfPresent(String.self, forKey: .passwordEnv)
        tls = try c.decodeIfPresent(TLSSettings.self, forKey: .tls)
        inflight = try c.decodeIfPresent(Int.self, forKey: .inflight) ?? 32
        reconnectMin = try c.decodeIfPresent(ConfigDuration.self, forKey: .reconnectMin) ?? ConfigDuration.seconds(1)
        reconnectMax = try c.decodeIfPresent(ConfigDuration.self, forKey: .reconnectMax) ?? ConfigDuration.seconds(60)
        if keepAlive.nanoseconds > 65_535 * 1_000_000_000 {
            throw c.invalid(.keepAlive, "must be at most 65535s (MQTT's 16-bit keep alive)")
        }
        if reconnectMin.nanoseconds == 0 || reconnectMin.nanoseconds > reconnectMax.nanoseconds {
            throw c.invalid(.reconnectMin, "must be more than 0 and at most reconnect_max")
        }
        guard (1...65_534).contains(inflight) else {
            throw c.invalid(.inflight, "must be between 1 and 65534")
        }
        stateTopicsGiven = try c.decodeIfPresent(Bool.self, forKey: .stateTopics)
        stateTopics = stateTopicsGiven ?? false
        maxPacketSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxPacketSize) ?? ByteSize(bytes: 128 * 1024)
        // 268,435,460 bytes: MQTT's largest packet (remaining length 268,435,455 and a 5-byte header).
        guard (MQTTSettings.minimumPacketSize...268_435_460).contains(maxPacketSize.bytes) else {
            throw c.invalid(
                .maxPacketSize, "must be between \(MQTTSettings.minimumPacketSize) bytes (a status or a reply must fit) and 256MiB")
        }
    }
}
