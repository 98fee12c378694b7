import Sensors
import Spool

/// The whole configuration file. Every key is documented in `boards/example.yaml`; anything not
/// known here is an error with its line, so a typo never silently falls back to a default.
public struct AgentConfig: Decodable, Equatable, Sendable {
    /// As configured until `load` resolves `auto` and `{serial}` (`DeviceIdentity`).
    public var deviceID: String
    /// The file the board's serial in `deviceID` came from, nil when the id is configured as is.
    public var deviceIDSource: String?
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
    public var homeAssistant: HomeAssistantSettings
    public var telemetry: TelemetrySettings
    public var remoteConfig: RemoteConfigSettings
    /// A pushed configuration's version: one must be higher than the running one's (0 when none).
    public var configVersion: UInt64
    /// The devices and groups a pushed configuration is for; nil: any board that takes it.
    public var configFor: [String]?

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", board, mqtt, spool, backfill, sensors, gpio, expanders, metricsInterval = "metrics_interval"
        case clockCheck = "clock_check", homeAssistant = "home_assistant", telemetry
        case remoteConfig = "remote_config", configVersion = "config_version", configFor = "config_for"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        deviceID = try c.decode(String.self, forKey: .deviceID)
        if let problem = TopicLevel.problem(deviceID) { throw c.invalid(.deviceID, "the device id \(problem)") }
        board = try c.decodeIfPresent(String.self, forKey: .board) ?? "simulated"
        mqtt = try c.decode(MQTTSettings.self, forKey: .mqtt)
        homeAssistant = try c.decodeIfPresent(HomeAssistantSettings.self, forKey: .homeAssistant) ?? HomeAssistantSettings()
        telemetry = try c.decodeIfPresent(TelemetrySettings.self, forKey: .telemetry) ?? TelemetrySettings()
        // Discovery needs the state topics: on unless the file turns them off, which is refused below.
        if homeAssistant.discovery && mqtt.stateTopicsGiven == nil { mqtt.stateTopics = true }
        remoteConfig = try c.decodeIfPresent(RemoteConfigSettings.self, forKey: .remoteConfig) ?? RemoteConfigSettings()
        configVersion = try c.decodeIfPresent(UInt64.self, forKey: .configVersion) ?? 0
        configFor = try c.decodeIfPresent([String].self, forKey: .configFor)
        if let configFor, configFor.isEmpty { throw c.invalid(.configFor, "lists no device or group; leave it out to mean any") }
        if deviceID == "groups" && remoteConfig.group != nil {
            throw c.invalid(.deviceID, "'groups' is the level of the group topics (<prefix>/groups/<group>/config)")
        }
        spool = try c.decodeIfPresent(SpoolSettings.self, forKey: .spool) ?? SpoolSettings()
        backfill = try c.decodeIfPresent(BackfillSettings.self, forKey: .backfill) ?? BackfillSettings()
        sensors = try c.decodeIfPresent([SensorSettings].self, forKey: .sensors) ?? []
        gpio = try c.decodeIfPresent([GPIOSettings].self, forKey: .gpio) ?? []
        expanders = try c.decodeIfPresent([ExpanderSettings].self, forKey: .expanders) ?? []
        metricsInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .metricsInterval) ?? ConfigDuration.seconds(60)
        clockCheck = try c.decodeIfPresent(Bool.self, forKey: .clockCheck) ?? true
        if metricsInterval.nanoseconds < 100_000_000 { throw c.invalid(.metricsInterval, "must be at least 100ms") }
        if mqtt.linger.nanoseconds > 0 && spool.mode == .spill {
            // Spill publishes from memory and writes to the spool only what waits; lingering
            // readings all wait, in the spool.
            throw c.invalid(.mqtt, "mqtt.linger keeps live readings in the spool until they go; it needs spool.mode: write-ahead")
        }
        if homeAssistant.discovery && !mqtt.stateTopics {
            throw c.invalid(.homeAssistant, "discovery points Home Assistant at the state topics; mqtt.state_topics must not be false")
        }
    }
}
