import Hardware

/// The drivers by config name, their usual addresses, and what `scan-i2c` can say about an address,
/// all from `DriverKind.all`.
public enum SensorCatalog {
    /// The sensor drivers a configuration may name, in the table's order.
    public static let sensorDrivers = DriverKind.all.filter { $0.family == .sensor }.map(\.name)

    /// Driver name -> the address used when the config gives none (the breakout boards' default).
    public static func defaultAddress(_ driver: String) -> UInt8? { DriverKind.named(driver)?.defaultAddress }

    public static func makeDriver(_ name: String, bus: (any I2CBus)?, address: UInt8?, options: [String: String]) throws -> any SensorDriver
    {
        let opts = DriverOptions(options, driver: name)
        if name == "ds18b20" { return try DS18B20(options: opts) }
        guard let kind = DriverKind.named(name), kind.family == .sensor, let make = kind.make else {
            throw SensorError.option("unknown driver '\(name)'")
        }
        guard let bus else { throw SensorError.option("\(name): needs an I2C bus") }
        guard let address = address ?? kind.defaultAddress else { throw SensorError.option("\(name): needs an address") }
        return try make(bus, address, opts)
    }

    /// A chip model for the simulated board, answering at `address` as `driver`'s chip would.
    public static func simulatedChip(for driver: String) -> (any SimulatedI2CDevice)? { DriverKind.named(driver)?.model?() }

    /// What answers at `address`: a chip named by its id register where the chip has one (read
    /// only; no command is sent that could change a chip's state), else the chips that use it.
    public static func identify(bus: any I2CBus, address: UInt8) -> String {
        if address == 0x76 || address == 0x77, let id = try? bus.readByteData(address: address, register: 0xD0) {
            if id == 0x60 { return "BME280 (chip id 0x60)" }
            if BME280.bmp280IDs.contains(id) { return "BMP280 (chip id \(hex(id)))" }
        }
        if (0x18...0x1F).contains(address),
            let m = try? bus.readWordBigEndian(address: address, register: 0x06), m == 0x0054,
            let d = try? bus.readWordBigEndian(address: address, register: 0x07), d >> 8 == 0x04
        {
            return "MCP9808 (manufacturer 0x0054, device 0x04)"
        }
        if address == 0x10, let id = try? bus.readWordData(address: address, register: 0x07), id & 0xFF == 0x81 {
            return "VEML7700 (id 0x81)"
        }
        let candidates = DriverKind.all.filter { kind in
            kind.defaultAddress == address || kind.otherAddresses.contains { $0.contains(address) }
        }.map(\.name)
        let unique = Array(Set(candidates)).sorted()
        return unique.isEmpty ? "unknown" : "maybe " + unique.joined(separator: ", ")
    }
}
