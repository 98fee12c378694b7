import Hardware

/// Vishay VEML7700 (datasheet rev. 1.x and application note 84323): 16-bit little-endian
/// registers; continuous mode with the configured gain and integration time. Resolution is
/// 0.0036 lx/count at gain 2 and 800 ms, scaling with both; above 1000 lx the application note's
/// polynomial corrects the non-linearity.
public final class VEML7700: SensorDriver {
    let bus: any I2CBus
    let address: UInt8
    let gain: Double
    let gainBits: UInt16
    let integrationMilliseconds: Int
    let integrationBits: UInt16
    private var readyAt: UInt64 = 0

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        var options = options
        (gain, gainBits) = try options.choice(
            "gain", default: (1.0, 0b00), [("1", (1.0, 0b00)), ("2", (2.0, 0b01)), ("1/8", (0.125, 0b10)), ("1/4", (0.25, 0b11))])
        (integrationMilliseconds, integrationBits) = try options.choice(
            "integration_ms", default: (100, 0b0000),
            [
                ("25", (25, 0b1100)), ("50", (50, 0b1000)), ("100", (100, 0b0000)), ("200", (200, 0b0001)), ("400", (400, 0b0010)),
                ("800", (800, 0b0011)),
            ])
        try options.finish()
    }

    public var quantities: [Quantity] { [.illuminance] }

    public func configure() throws {
        // Register 0x07: device id, low byte 0x81.
        let id = try onBus { () throws(I2CError) in try bus.readWordData(address: address, register: 0x07) }
        guard id & 0xFF == 0x81 else { throw SensorError.wrongChip(expected: "VEML7700 (id 0x81)", found: "id \(hex(UInt8(id & 0xFF)))") }
        // ALS_CONF_0: gain bits 12:11, integration time bits 9:6, ALS_SD (bit 0) = 0: power on.
        let config = gainBits << 11 | integrationBits << 6
        try onBus { () throws(I2CError) in try bus.writeWordData(address: address, register: 0x00, config) }
        // The first result is ready one integration time (plus margin) after power-on.
        readyAt = monotonicNanoseconds() + UInt64(integrationMilliseconds + 5) * 1_000_000
    }

    public func start() throws -> UInt64 {
        let now = monotonicNanoseconds()
        return readyAt > now ? readyAt - now : 0
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let counts = try onBus { () throws(I2CError) in try bus.readWordData(address: address, register: 0x04) }
        m.add(.illuminance, VEML7700.lux(counts: counts, gain: gain, integrationMilliseconds: integrationMilliseconds), decimals: 2)
        return nil
    }

    /// Datasheet rev. 1.7 (Nov 2023) and application note 84323: 0.0042 lx per count at gain 2 and
    /// 800 ms (the earlier 0.0036 was withdrawn: readings with it were 14.3 % low), doubling as the
    /// gain or the integration time halves.
    static func lux(counts: UInt16, gain: Double, integrationMilliseconds: Int) -> Double {
        let resolution = 0.0042 * (2 / gain) * (800 / Double(integrationMilliseconds))
        let x = Double(counts) * resolution
        guard x > 1000 else { return x }
        // Application note 84323, "Calculating the lux level": the sensor reads low above about
        // 1000 lx, whatever the gain; this polynomial corrects it (as ESPHome and Adafruit apply it).
        return 6.0135e-13 * x * x * x * x - 9.3924e-9 * x * x * x + 8.1488e-5 * x * x + 1.0023 * x
    }
}
