import Hardware

/// TI TMP102 (datasheet SBOS397): temperature register 0x00, 12-bit two's complement, left-aligned,
/// 0.0625 °C per count (Table 5); 13 bits in extended mode (EM, bit 0 of the low byte).
/// No id register: the configuration register's power-on value identifies it loosely.
public final class TMP102: SensorDriver {
    let bus: any I2CBus
    let address: UInt8

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature] }

    public func configure() throws {
        _ = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x01) }
    }

    public func start() throws -> UInt64 { 0 } // converts continuously, 4 times a second

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let raw = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x00) }
        m.add(.temperature, TMP102.celsius(raw), decimals: 4)
        return nil
    }

    static func celsius(_ raw: UInt16) -> Double {
        let extended = raw & 0x0001 != 0
        return Double(Int16(bitPattern: raw) >> (extended ? 3 : 4)) * 0.0625
    }
}
