import Sensors
import Spool

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
