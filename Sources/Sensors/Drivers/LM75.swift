import Hardware

/// LM75 family (NXP LM75B, TI LM75A, Maxim LM75): temperature register 0x00, two's complement,
/// left-aligned: 9 bits (0.5 °C, LM75/LM75A) or 11 bits (0.125 °C, LM75B). Option `resolution`.
public final class LM75: SensorDriver {
    let bus: any I2CBus
    let address: UInt8
    let bits: Int

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        var options = options
        bits = try options.choice("resolution", default: 9, [("9", 9), ("11", 11)])
        try options.finish()
    }

    public var quantities: [Quantity] { [.temperature] }

    public func configure() throws {
        _ = try onBus { () throws(I2CError) in try bus.readByteData(address: address, register: 0x01) }
    }

    public func start() throws -> UInt64 { 0 }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let raw = try onBus { () throws(I2CError) in try bus.readWordBigEndian(address: address, register: 0x00) }
        m.add(.temperature, LM75.celsius(raw, bits: bits), decimals: bits == 9 ? 1 : 3)
        return nil
    }

    static func celsius(_ raw: UInt16, bits: Int) -> Double {
        Double(Int16(bitPattern: raw) >> (16 - bits)) * (bits == 9 ? 0.5 : 0.125)
    }
}
