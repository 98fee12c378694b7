import Hardware

/// The one list of drivers: each one's config name, its usual address, every address the chip can
/// be strapped to, how to make it and the chip model the simulated board puts on the bus for it.
/// Configuration checks, `scan-i2c`, the simulated board and the agent all read this table.
public struct DriverKind: Sendable {
    public enum Family: Sendable { case sensor, expander }

    public let name: String
    public let family: Family
    /// The breakout boards' default address; nil for a driver not on I2C (the 1-wire DS18B20).
    public let defaultAddress: UInt8?
    /// Addresses the chip answers at besides the default (for `scan-i2c`'s guesses).
    let otherAddresses: [ClosedRange<UInt8>]
    let make: (@Sendable (any I2CBus, UInt8, DriverOptions) throws -> any SensorDriver)?
    let model: (@Sendable () -> any SimulatedI2CDevice)?

    init(
        _ name: String, _ family: Family = .sensor, at defaultAddress: UInt8?, or otherAddresses: [ClosedRange<UInt8>] = [],
        make: (@Sendable (any I2CBus, UInt8, DriverOptions) throws -> any SensorDriver)?,
        model: (@Sendable () -> any SimulatedI2CDevice)?
    ) {
        self.name = name
        self.family = family
        self.defaultAddress = defaultAddress
        self.otherAddresses = otherAddresses
        self.make = make
        self.model = model
    }

    public static let all: [DriverKind] = [
        DriverKind(
            "bme280", at: 0x76, or: [0x77...0x77], make: { try BME280(bus: $0, address: $1, variant: .bme280, options: $2) },
            model: { SimulatedBME280(variant: .bme280) }),
        DriverKind(
            "bmp280", at: 0x76, or: [0x77...0x77], make: { try BME280(bus: $0, address: $1, variant: .bmp280, options: $2) },
            model: { SimulatedBME280(variant: .bmp280) }),
        DriverKind(
            "sht3x", at: 0x44, or: [0x45...0x45], make: { try SHT3x(bus: $0, address: $1, options: $2) }, model: { SimulatedSHT3x() }),
        DriverKind(
            "sht4x", at: 0x44, or: [0x45...0x46], make: { try SHT4x(bus: $0, address: $1, options: $2) }, model: { SimulatedSHT4x() }),
        DriverKind("aht20", at: 0x38, make: { try AHT20(bus: $0, address: $1, options: $2) }, model: { SimulatedAHT20() }),
        DriverKind(
            "bh1750", at: 0x23, or: [0x5C...0x5C], make: { try BH1750(bus: $0, address: $1, options: $2) }, model: { SimulatedBH1750() }),
        DriverKind("veml7700", at: 0x10, make: { try VEML7700(bus: $0, address: $1, options: $2) }, model: { SimulatedVEML7700() }),
        DriverKind(
            "ads1115", at: 0x48, or: [0x48...0x4B], make: { try ADS1x15(bus: $0, address: $1, model: .ads1115, options: $2) },
            model: { SimulatedADS1115() }),
        DriverKind(
            "ads1015", at: 0x48, or: [0x48...0x4B], make: { try ADS1x15(bus: $0, address: $1, model: .ads1015, options: $2) },
            model: { SimulatedADS1115() }),
        DriverKind(
            "ina219", at: 0x40, or: [0x40...0x4F], make: { try INA219(bus: $0, address: $1, options: $2) }, model: { SimulatedINA219() }),
        DriverKind(
            "tmp102", at: 0x48, or: [0x48...0x4B], make: { try TMP102(bus: $0, address: $1, options: $2) },
            model: { SimulatedTemperatureChip(.tmp102, raw: 0x1900) }),
        DriverKind(
            "lm75", at: 0x48, or: [0x48...0x4F], make: { try LM75(bus: $0, address: $1, options: $2) },
            model: { SimulatedTemperatureChip(.lm75, raw: 0x1900) }),
        DriverKind(
            "mcp9808", at: 0x18, or: [0x18...0x1F], make: { try MCP9808(bus: $0, address: $1, options: $2) },
            model: { SimulatedTemperatureChip(.mcp9808, raw: 0x0190) }),
        DriverKind("ds18b20", at: nil, make: nil, model: nil),
        DriverKind("pcf8574", .expander, at: 0x20, or: [0x20...0x27, 0x38...0x3F], make: nil, model: { SimulatedPCF8574() }),
        DriverKind("mcp23017", .expander, at: 0x20, or: [0x20...0x27], make: nil, model: { SimulatedMCP23017() }),
    ]

    public static func named(_ name: String) -> DriverKind? { all.first { $0.name == name } }
}
