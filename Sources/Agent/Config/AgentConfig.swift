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

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id", board, mqtt, spool, backfill, sensors, gpio, expanders, metricsInterval = "metrics_interval"
        case clockCheck = "clock_check", homeAssistant = "home_assistant", telemetry
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
