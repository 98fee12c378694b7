import Hardware

/// Microchip MCP9808 (datasheet DS25095A): manufacturer id 0x0054 (register 0x06), device id
/// 0x04 (upper byte of register 0x07); ambient temperature register 0x05, 13-bit two's complement
/// with flag bits 15:13, 0.0625 °C per count (section 5.1.3, Equation 5-1).
public final class MCP9808: SensorDriver {
    let bus: any I2CBus
    let address: UInt8

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature] }

    public func configure() throws {
        let (manufacturer, device) = try onBus { () throws(I2CError) in
            (try bus.readWordBigEndian(address: address, register: 0x06), try bus.readWordBigEndian(address: address, register: 0x07))
        }
        guard manufacturer == 0x0054, device >> 8 == 0x04 else {
            throw SensorError.wrongChip(
                expected: "MCP9808 (manufacturer 0x0054, device 0x04)",
                found:
                    "manufacturer \(hex(UInt8(manufacturer >> 8)))\(hex(UInt8(manufacturer & 0xFF)).dropFirst(2)), device \(hex(UInt8(device >> 8)))"
            )
        }
        // Resolution register 0x08: 0x03 = 0.0625 °C (power-on default, 250 ms per conversion).
        try onBus { () throws(I2CError) in try bus.writeByteData(address: address, register: 0x08, 0x03) }
    }

    public func start() throws -> UInt64 { 0 }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let raw = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x05) }
        m.add(.temperature, MCP9808.celsius(raw), decimals: 4)
        return nil
    }

    /// Equation 5-1: clear the flags; bit 12 is the sign.
    static func celsius(_ raw: UInt16) -> Double {
        let value = Int32(raw & 0x0FFF)
        return raw & 0x1000 != 0 ? Double(value - 4096) / 16 : Double(value) / 16
    }
}
