import Hardware

/// TI INA219 current and power monitor (datasheet SBOS448G). Triggered shunt-and-bus conversions
/// at 12 bits (532 us each), 32 V bus range, PGA /8 (320 mV shunt range). Calibration per
/// section 8.5.1: Current_LSB = max_current_a / 2^15 (Equation 2), Cal = trunc(0.04096 /
/// (Current_LSB x R_shunt)) (Equation 1), Power_LSB = 20 x Current_LSB (Equation 3).
///
/// Options: `shunt_ohms` (default 0.1, as on the common breakout boards), `max_current_a` (3.2).
public final class INA219: SensorDriver {
    let bus: any I2CBus
    let address: UInt8
    public let currentLSB: Double
    public let calibration: UInt16
    let shuntOhms: Double

    /// 32 V range (BRNG = 1), PGA /8 (11), 12-bit bus and shunt ADC (0011), mode 011: shunt and bus, triggered.
    static let triggeredConfig: UInt16 = 1 << 13 | 0b11 << 11 | 0b0011 << 7 | 0b0011 << 3 | 0b011

    public init(bus: any I2CBus, address: UInt8, options: DriverOptions) throws {
        self.bus = bus; self.address = address
        var options = options
        shuntOhms = try options.number("shunt_ohms", default: 0.1, in: 0.0001...100)
        let maxCurrent = try options.number("max_current_a", default: 3.2, in: 0.001...100)
        try options.finish()
        (currentLSB, calibration) = try INA219.calibrate(shuntOhms: shuntOhms, maxCurrent: maxCurrent)
    }

    static func calibrate(shuntOhms: Double, maxCurrent: Double) throws(SensorError) -> (Double, UInt16) {
        let lsb = maxCurrent / 32768
        let cal = (0.04096 / (lsb * shuntOhms)).rounded(.towardZero)
        guard cal >= 1, cal <= 0xFFFE else {
            throw .option("ina219: shunt_ohms and max_current_a give calibration \(cal), outside 1...65534")
        }
        // Bit 0 of the calibration register is void (always 0): keep the LSB consistent with it.
        let register = UInt16(cal) & 0xFFFE
        return (0.04096 / (Double(register) * shuntOhms), register)
    }

    public var quantities: [Quantity] { [.busVoltage, .shuntVoltage, .current, .power] }

    public func configure() throws {
        let config = try onBus { () throws(I2CError) in
            try bus.writeWordBigEndian(address: address, register: 0x00, 0x8000) // reset
            return try bus.readWordBigEndian(address: address, register: 0x00)
        }
        // Power-on default 0x399F (Table 4): anything else is not an INA219.
        guard config == 0x399F else {
            throw SensorError.wrongChip(expected: "INA219 (configuration 0x399f after reset)", found: "configuration \(config)")
        }
        try onBus { () throws(I2CError) in try bus.writeWordBigEndian(address: address, register: 0x05, calibration) }
    }

    public func start() throws -> UInt64 {
        try onBus { () throws(I2CError) in try bus.writeWordBigEndian(address: address, register: 0x00, INA219.triggeredConfig) }
        return 1_200_000 // two 532 us conversions plus margin
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let (busRaw, shuntRaw, powerRaw, currentRaw) = try onBus { () throws(I2CError) in
            (
                try bus.readWordBigEndian(address: address, register: 0x02), try bus.readWordBigEndian(address: address, register: 0x01),
                try bus.readWordBigEndian(address: address, register: 0x03), try bus.readWordBigEndian(address: address, register: 0x04)
            )
        }
        // Bus voltage register: bits 15:3 in 4 mV, CNVR (bit 1) conversion ready, OVF (bit 0) overflow.
        guard busRaw & 0x02 != 0 else { throw SensorError.conversionStuck("INA219 conversion-ready bit not set") }
        guard busRaw & 0x01 == 0 else {
            throw SensorError.invalidReading("INA219 math overflow: current or power beyond range (check max_current_a)")
        }
        m.add(.busVoltage, Double(busRaw >> 3) * 0.004, decimals: 3)
        m.add(.shuntVoltage, Double(Int16(bitPattern: shuntRaw)) * 0.01, decimals: 2)
        m.add(.current, Double(Int16(bitPattern: currentRaw)) * currentLSB, decimals: 4)
        m.add(.power, Double(powerRaw) * 20 * currentLSB, decimals: 4)
        return nil
    }
}
