import Hardware

/// ROHM BH1750FVI (datasheet): one-time high-resolution mode (0x20, 1 lx resolution, 180 ms max),
/// the chip powering down after each measurement. lux = count / 1.2 x (69 / MTreg) (page 11).
public final class BH1750: SensorDriver {
    let bus: any I2CBus
    let address: UInt8
    private var buffer = [UInt8](repeating: 0, count: 2)

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        try options.finish()
    }

    public var quantities: [Quantity] { [.illuminance] }

    public func configure() throws {
        try bus.command(address, 0x01) // power on
    }

    public func start() throws -> UInt64 {
        try bus.command(address, 0x20)
        return 180_000_000
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        try bus.read(address, into: &buffer, count: 2)
        m.add(.illuminance, BH1750.lux(high: buffer[0], low: buffer[1]), decimals: 1)
        return nil
    }

    static func lux(high: UInt8, low: UInt8) -> Double { Double(UInt16(high) << 8 | UInt16(low)) / 1.2 }
}
