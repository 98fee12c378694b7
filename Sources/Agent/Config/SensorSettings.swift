import Sensors
import Spool

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
