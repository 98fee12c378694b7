import Hardware

/// The drivers by config name, their usual addresses, and what `scan-i2c` can say about an address.
public enum SensorCatalog {
    /// Driver name -> the address used when the config gives none (the breakout boards' default).
    public static let defaultAddresses: [String: UInt8] = [
        "bme280": 0x76, "bmp280": 0x76, "sht3x": 0x44, "sht4x": 0x44, "aht20": 0x38, "bh1750": 0x23,
        "veml7700": 0x10, "ads1115": 0x48, "ads1015": 0x48, "ina219": 0x40, "tmp102": 0x48, "lm75": 0x48,
        "mcp9808": 0x18, "pcf8574": 0x20, "mcp23017": 0x20,
    ]

    public static func makeDriver(_ name: String, bus: (any I2CBus)?, address: UInt8?, options: [String: String]) throws -> any SensorDriver
    {
        let opts = DriverOptions(options, driver: name)
        if name == "ds18b20" { return try DS18B20(options: opts) }
        guard let bus else { throw SensorError.option("\(name): needs an I2C bus") }
        guard let address = address ?? defaultAddresses[name] else { throw SensorError.option("\(name): unknown driver") }
        switch name {
        case "bme280": return try BME280(bus: bus, address: address, variant: .bme280, options: opts)
        case "bmp280": return try BME280(bus: bus, address: address, variant: .bmp280, options: opts)
        case "sht3x": return try SHT3x(bus: bus, address: address, options: opts)
        case "sht4x": return try SHT4x(bus: bus, address: address, options: opts)
        case "aht20": return try AHT20(bus: bus, address: address, options: opts)
        case "bh1750": return try BH1750(bus: bus, address: address, options: opts)
        case "veml7700": return try VEML7700(bus: bus, address: address, options: opts)
        case "ads1115": return try ADS1x15(bus: bus, address: address, model: .ads1115, options: opts)
        case "ads1015": return try ADS1x15(bus: bus, address: address, model: .ads1015, options: opts)
        case "ina219": return try INA219(bus: bus, address: address, options: opts)
        case "tmp102": return try TMP102(bus: bus, address: address, options: opts)
        case "lm75": return try LM75(bus: bus, address: address, options: opts)
        case "mcp9808": return try MCP9808(bus: bus, address: address, options: opts)
        default: throw SensorError.option("unknown driver '\(name)'")
        }
    }

    /// A chip model for the simulated board, answering at `address` as `driver`'s chip would.
    public static func simulatedChip(for driver: String) -> (any SimulatedI2CDevice)? {
        switch driver {
        case "bme280": return SimulatedBME280(variant: .bme280)
        case "bmp280": return SimulatedBME280(variant: .bmp280)
        case "sht3x": return SimulatedSHT3x()
        case "sht4x": return SimulatedSHT4x()
        case "aht20": return SimulatedAHT20()
        case "bh1750": return SimulatedBH1750()
        case "veml7700": return SimulatedVEML7700()
        case "ads1115", "ads1015": return SimulatedADS1115()
        case "ina219": return SimulatedINA219()
        case "tmp102": return SimulatedTemperatureChip(.tmp102, raw: 0x1900)
        case "lm75": return SimulatedTemperatureChip(.lm75, raw: 0x1900)
        case "mcp9808": return SimulatedTemperatureChip(.mcp9808, raw: 0x0190)
        case "pcf8574": return SimulatedPCF8574()
        case "mcp23017": return SimulatedMCP23017()
        default: return nil
        }
    }

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
        let candidates =
            defaultAddresses.filter { $0.value == address }.map(\.key)
            + (addressRanges.filter { $0.range.contains(address) }.map(\.driver))
        let unique = Array(Set(candidates)).sorted()
        return unique.isEmpty ? "unknown" : "maybe " + unique.joined(separator: ", ")
    }

    static let addressRanges: [(driver: String, range: ClosedRange<UInt8>)] = [
        ("bh1750", 0x5C...0x5C), ("sht3x", 0x45...0x45), ("sht4x", 0x45...0x46), ("ads1115", 0x48...0x4B),
        ("ina219", 0x40...0x4F), ("tmp102", 0x48...0x4B), ("lm75", 0x48...0x4F), ("mcp9808", 0x18...0x1F),
        ("pcf8574", 0x20...0x27), ("pcf8574", 0x38...0x3F), ("mcp23017", 0x20...0x27), ("bme280", 0x77...0x77),
    ]
}
