import Sensors
import Spool

/// The whole configuration file. Every key is documented in `boards/example.yaml`; anything not
/// known here is an error with its line, so a typo never silently falls back to a default.
public struct AgentConfig: Decodable, Equatable, Sendable {
    public var deviceID: String
    /// A board name under `boards/` (e.g. `raspberry-pi-4b`, `simulated`) or a path to a board file.
    public var board: String
    public var mqtt: MQTTSettings
    public var spool: SpoolSettings
    public var backfill: BackfillSettings
    public var sensors: [SensorSettings]
    public var gpio: [GPIOSettings]
    /// I2C IO expanders whose lines `gpio:` entries can use (`chip: <name>`).
    public var expanders: [ExpanderSettings]
    public var metricsInterval: ConfigDuration
    /// Mark readings taken while the kernel says the clock is not synchronised.
    public var clockCheck: Bool

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", board, mqtt, spool, backfill, sensors, gpio, expanders, metricsInterval = "metrics_interval"
        case clockCheck = "clock_check"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceID = try c.decode(String.self, forKey: .deviceID)
        if let problem = TopicLevel.problem(deviceID) { throw c.invalid(.deviceID, "the device id \(problem)") }
        board = try c.decodeIfPresent(String.self, forKey: .board) ?? "simulated"
        mqtt = try c.decode(MQTTSettings.self, forKey: .mqtt)
        spool = try c.decodeIfPresent(SpoolSettings.self, forKey: .spool) ?? SpoolSettings()
        backfill = try c.decodeIfPresent(BackfillSettings.self, forKey: .backfill) ?? BackfillSettings()
        sensors = try c.decodeIfPresent([SensorSettings].self, forKey: .sensors) ?? []
        gpio = try c.decodeIfPresent([GPIOSettings].self, forKey: .gpio) ?? []
        expanders = try c.decodeIfPresent([ExpanderSettings].self, forKey: .expanders) ?? []
        metricsInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .metricsInterval) ?? ConfigDuration.seconds(60)
        clockCheck = try c.decodeIfPresent(Bool.self, forKey: .clockCheck) ?? true
        if metricsInterval.nanoseconds < 100_000_000 { throw c.invalid(.metricsInterval, "must be at least 100ms") }
    }
}

public struct MQTTSettings: Decodable, Equatable, Sendable {
    /// `mqtt://host:port` or `mqtts://host:port`; several for failover.
    public var brokers: [String]
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

    static let minimumPacketSize = 512

    enum CodingKeys: String, CodingKey {
        case brokers, clientID = "client_id", topicPrefix = "topic_prefix", keepAlive = "keep_alive", username
        case passwordFile = "password_file", passwordEnv = "password_env", password, tls, inflight
        case reconnectMin = "reconnect_min", reconnectMax = "reconnect_max", maxPacketSize = "max_packet_size"
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
        maxPacketSize = try c.decodeIfPresent(ByteSize.self, forKey: .maxPacketSize) ?? ByteSize(bytes: 128 * 1024)
        // 268,435,460 bytes: MQTT's largest packet (remaining length 268,435,455 and a 5-byte header).
        guard (MQTTSettings.minimumPacketSize...268_435_460).contains(maxPacketSize.bytes) else {
            throw c.invalid(
                .maxPacketSize, "must be between \(MQTTSettings.minimumPacketSize) bytes (a status or a reply must fit) and 256MiB")
        }
    }
}

public struct TLSSettings: Decodable, Equatable, Sendable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Verify the broker's certificate and host name. Off is for lab use only.
    public var verify: Bool
    public var serverName: String?
    public var alpn: [String]

    /// What an mqtts:// broker uses with no `tls:` section: the system trust store, verification on.
    static let defaults = TLSSettings(caFile: nil, certFile: nil, keyFile: nil, verify: true, serverName: nil, alpn: [])

    init(caFile: String?, certFile: String?, keyFile: String?, verify: Bool, serverName: String?, alpn: [String]) {
        self.caFile = caFile; self.certFile = certFile; self.keyFile = keyFile
        self.verify = verify; self.serverName = serverName; self.alpn = alpn
    }

    enum CodingKeys: String, CodingKey {
        case caFile = "ca_file", certFile = "cert_file", keyFile = "key_file", verify, serverName = "server_name", alpn
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        certFile = try c.decodeIfPresent(String.self, forKey: .certFile)
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile)
        verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? true
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
        alpn = try c.decodeIfPresent([String].self, forKey: .alpn) ?? []
        if (certFile == nil) != (keyFile == nil) {
            throw c.invalid(.keyFile, "cert_file and key_file go together")
        }
    }
}

public struct SpoolSettings: Decodable, Equatable, Sendable {
    public enum Durability: String, Decodable, Sendable { case always, interval, never }
    /// `write-ahead`: every reading goes to disk first. `spill`: readings are published from memory
    /// and reach the disk only when not acknowledged in time or while offline.
    public enum Mode: String, Decodable, Sendable { case writeAhead = "write-ahead", spill }

    public var dir: String = "/var/lib/edge-agent/spool"
    public var capacity = ByteSize(bytes: 64 << 20)
    public var durability = Durability.interval
    public var syncInterval = ConfigDuration.seconds(1)
    public var mode = Mode.writeAhead

    enum CodingKeys: String, CodingKey { case dir, capacity, durability, syncInterval = "sync_interval", mode }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dir = try c.decodeIfPresent(String.self, forKey: .dir) ?? dir
        capacity = try c.decodeIfPresent(ByteSize.self, forKey: .capacity) ?? capacity
        durability = try c.decodeIfPresent(Durability.self, forKey: .durability) ?? durability
        syncInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .syncInterval) ?? syncInterval
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? mode
        if case .interval = durability, syncInterval.nanoseconds == 0 { throw c.invalid(.syncInterval, "must be more than 0") }
        // The spool's own rule, so `run` never refuses what the check passed.
        if let problem = SpoolConfiguration(capacityBytes: capacity.bytes).problem { throw c.invalid(.capacity, "\(problem)") }
    }
}

public struct BackfillSettings: Decodable, Equatable, Sendable {
    /// Buffered readings sent per second after an outage, alongside live ones.
    public var rate: Int = 100
    /// Buffered readings per message while draining (1: one reading per message).
    public var batch: Int = 1

    enum CodingKeys: String, CodingKey { case rate, batch }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decodeIfPresent(Int.self, forKey: .rate) ?? rate
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? batch
        guard (1...100_000).contains(rate), (1...1000).contains(batch) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: c.codingPath, debugDescription: "rate must be between 1 and 100000 and batch between 1 and 1000"))
        }
    }
}

public struct SensorSettings: Decodable, Equatable, Sendable {
    /// The drivers of `DriverKind.all`, and the agent's own `simulated` (a sensor with no chip).
    public static let drivers = SensorCatalog.sensorDrivers + ["simulated"]
    public var name: String
    public var driver: String
    public var bus: Int?
    public var address: I2CAddress?
    public var interval: ConfigDuration
    /// Driver-specific settings (gain, channels, shunt resistance, ...), validated by the driver.
    public var options: [String: String]

    enum CodingKeys: String, CodingKey { case name, driver, bus, address, interval, options }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        driver = try c.decode(String.self, forKey: .driver)
        bus = try c.decodeIfPresent(Int.self, forKey: .bus)
        address = try c.decodeIfPresent(I2CAddress.self, forKey: .address)
        interval = try c.decodeIfPresent(ConfigDuration.self, forKey: .interval) ?? ConfigDuration.seconds(10)
        options = try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:]
        guard SensorSettings.drivers.contains(driver) else {
            throw c.invalid(.driver, "unknown driver '\(driver)'; known: \(SensorSettings.drivers.joined(separator: ", "))")
        }
        if let problem = TopicLevel.problem(name) { throw c.invalid(.name, "a sensor name \(problem)") }
        guard interval.nanoseconds >= 10_000_000 else {
            throw c.invalid(.interval, "must be at least 10ms")
        }
    }
}

public struct GPIOSettings: Decodable, Equatable, Sendable {
    public enum Direction: String, Decodable, Sendable { case input, output, counter }
    public enum Edge: String, Decodable, Sendable { case rising, falling, both }
    public enum Bias: String, Decodable, Sendable { case pullUp = "pull-up", pullDown = "pull-down", disabled = "disabled", asIs = "as-is" }

    public var name: String
    /// A header pin (`pin 11`), a BCM name (`GPIO17`) or a line offset, resolved through the board file.
    public var line: String
    public var direction: Direction
    public var edge: Edge
    public var bias: Bias
    public var debounce: ConfigDuration
    public var initial: Bool
    /// The state outputs return to on shutdown.
    public var safeState: Bool?
    /// Whether commands may drive this output.
    public var commandable: Bool
    public var activeLow: Bool
    /// An expander's name from `expanders:`; default: the board's GPIO chip.
    public var chip: String?
    /// Counters: how often the count and frequency are published.
    public var interval: ConfigDuration

    enum CodingKeys: String, CodingKey {
        case name, line, direction, edge, bias, debounce, initial, safeState = "safe_state", commandable, activeLow = "active_low"
        case chip, interval
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        line = try c.decode(String.self, forKey: .line)
        direction = try c.decodeIfPresent(Direction.self, forKey: .direction) ?? .input
        edge = try c.decodeIfPresent(Edge.self, forKey: .edge) ?? .both
        bias = try c.decodeIfPresent(Bias.self, forKey: .bias) ?? .asIs
        debounce = try c.decodeIfPresent(ConfigDuration.self, forKey: .debounce) ?? ConfigDuration(nanoseconds: 0)
        initial = try c.decodeIfPresent(Bool.self, forKey: .initial) ?? false
        safeState = try c.decodeIfPresent(Bool.self, forKey: .safeState)
        commandable = try c.decodeIfPresent(Bool.self, forKey: .commandable) ?? false
        activeLow = try c.decodeIfPresent(Bool.self, forKey: .activeLow) ?? false
        chip = try c.decodeIfPresent(String.self, forKey: .chip)
        interval = try c.decodeIfPresent(ConfigDuration.self, forKey: .interval) ?? ConfigDuration.seconds(60)
        if let problem = TopicLevel.problem(name) { throw c.invalid(.name, "a line name \(problem)") }
        if direction != .counter && c.contains(.interval) {
            throw c.invalid(.interval, "interval applies to counters only")
        }
        if direction != .output && (commandable || safeState != nil || c.contains(.initial)) {
            throw c.invalid(.direction, "initial, safe_state and commandable apply to outputs only")
        }
    }
}

public struct ExpanderSettings: Decodable, Equatable, Sendable {
    public var name: String
    /// pcf8574 or mcp23017.
    public var driver: String
    public var bus: Int?
    public var address: I2CAddress?

    enum CodingKeys: String, CodingKey { case name, driver, bus, address }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        driver = try c.decode(String.self, forKey: .driver)
        bus = try c.decodeIfPresent(Int.self, forKey: .bus)
        address = try c.decodeIfPresent(I2CAddress.self, forKey: .address)
        guard ["pcf8574", "mcp23017"].contains(driver) else {
            throw c.invalid(.driver, "unknown expander '\(driver)'; known: pcf8574, mcp23017")
        }
    }
}

extension KeyedDecodingContainer {
    /// The error for a value at `key` that decodes but is not acceptable; the loader adds its line.
    func invalid(_ key: Key, _ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: message))
    }
}
