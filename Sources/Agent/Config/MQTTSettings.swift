import Sensors
import Spool

public struct MQTTSettings: Decodable, Equatable, Sendable {
    public enum BrokerOrder: String, Decodable, Sendable { case inOrder = "in-order", spread }
    /// `auto`: 5.0, and 3.1.1 for a broker that refuses it (VersionNegotiation).
    public enum Version: String, Decodable, Sendable { case v5 = "5", v311 = "3.1.1", auto }

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
    /// Whether the file set `max_packet_size`: if not, a 5.0 broker's own limit replaces the default.
    public var maxPacketSizeGiven: Bool
    public var version: Version
    /// 5.0: how long the broker keeps this device's session (its queued requests) after a
    /// connection ends; a device retired for longer is forgotten.
    public var sessionExpiry: ConfigDuration
    /// 5.0: how long the broker waits after a lost connection before it publishes "offline"; a
    /// reconnect within it shows nothing.
    public var willDelay: ConfigDuration
    /// 5.0: user properties every message carries (a site, a fleet), sorted by name.
    public var userProperties: [String: String]
    /// Live readings of one sensor wait up to this long and go as one array message; 0 is off.
    public var linger: ConfigDuration
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
        case stateTopics = "state_topics", version, sessionExpiry = "session_expiry", willDelay = "will_delay"
        case userProperties = "user_properties", linger
    }

    static let maxUserProperties = 16

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
        maxPacketSizeGiven = c.contains(.maxPacketSize)
        maxPacketSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxPacketSize) ?? ByteSize(bytes: 128 * 1024)
        // 268,435,460 bytes: MQTT's largest packet (remaining length 268,435,455 and a 5-byte header).
        guard (MQTTSettings.minimumPacketSize...268_435_460).contains(maxPacketSize.bytes) else {
            throw c.invalid(
                .maxPacketSize, "must be between \(MQTTSettings.minimumPacketSize) bytes (a status or a reply must fit) and 256MiB")
        }
        version = try c.decodeIfPresent(Version.self, forKey: .version) ?? .auto
        sessionExpiry = try c.decodeIfPresent(ConfigDuration.self, forKey: .sessionExpiry) ?? ConfigDuration.seconds(7 * 86_400)
        willDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .willDelay) ?? ConfigDuration.seconds(30)
        linger = try c.decodeIfPresent(ConfigDuration.self, forKey: .linger) ?? ConfigDuration(nanoseconds: 0)
        if linger.nanoseconds > 3600 * 1_000_000_000 { throw c.invalid(.linger, "must be at most 1h (readings wait in memory)") }
        if willDelay.nanoseconds > sessionExpiry.nanoseconds {
            // The broker publishes the will when the session ends, whichever comes first (3.1.3.2.2).
            throw c.invalid(.willDelay, "must be at most session_expiry, which ends the wait anyway")
        }
        userProperties = try c.decodeIfPresent([String: String].self, forKey: .userProperties) ?? [:]
        if userProperties.count > MQTTSettings.maxUserProperties {
            throw c.invalid(.userProperties, "at most \(MQTTSettings.maxUserProperties) (every message carries them)")
        }
        for (name, value) in userProperties
        where name.utf8.count > 128 || value.utf8.count > 256 || name.isEmpty || name.utf8.contains(0) || value.utf8.contains(0) {
            throw c.invalid(
                .userProperties, "\(name.prefix(40).debugDescription): a name of 1 to 128 bytes and a value of at most 256, without U+0000")
        }
    }
}
