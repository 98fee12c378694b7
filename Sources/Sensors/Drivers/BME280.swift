import Hardware

/// Bosch BME280 (temperature, humidity, pressure) and BMP280 (temperature, pressure), in forced
/// mode: one conversion per reading, the sensor sleeping in between (datasheet 3.3.3; the
/// "weather monitoring" setting of section 3.5.1: oversampling x1, filter off).
///
/// Compensation is the datasheet's integer code: BME280 datasheet section 4.2.3 (32-bit
/// temperature and humidity, 64-bit pressure), identical for temperature and pressure to the
/// BMP280 datasheet section 3.11.3.
public final class BME280: SensorDriver {
    public enum Variant: Sendable { case bme280, bmp280 }

    struct Calibration: Equatable {
        var t1: UInt16 = 0, t2: Int16 = 0, t3: Int16 = 0
        var p1: UInt16 = 0, p2: Int16 = 0, p3: Int16 = 0, p4: Int16 = 0, p5: Int16 = 0
        var p6: Int16 = 0, p7: Int16 = 0, p8: Int16 = 0, p9: Int16 = 0
        var h1: UInt8 = 0, h2: Int16 = 0, h3: UInt8 = 0, h4: Int16 = 0, h5: Int16 = 0, h6: Int8 = 0
    }

    enum Register {
        static let calibration: UInt8 = 0x88 // 0x88...0xA1: T1..P9, then H1 at 0xA1
        static let chipID: UInt8 = 0xD0
        static let reset: UInt8 = 0xE0
        static let humidityCalibration: UInt8 = 0xE1 // 0xE1...0xE7: H2..H6
        static let controlHumidity: UInt8 = 0xF2
        static let status: UInt8 = 0xF3
        static let controlMeasurement: UInt8 = 0xF4
        static let config: UInt8 = 0xF5
        static let data: UInt8 = 0xF7 // press[3] temp[3] hum[2]
    }

    /// Chip ids (register 0xD0): 0x60 BME280; 0x58 BMP280 (0x56, 0x57 on engineering samples).
    static let bme280ID: UInt8 = 0x60
    static let bmp280IDs: [UInt8] = [0x56, 0x57, 0x58]

    public let variant: Variant
    let bus: any I2CBus
    let address: UInt8
    var calibration = Calibration()
    private var buffer = [UInt8](repeating: 0, count: 32)

    public init(bus: any I2CBus, address: UInt8, variant: Variant, options: DriverOptions) throws {
        self.bus = bus; self.address = address; self.variant = variant
        try options.finish()
    }

    public var quantities: [Quantity] { variant == .bme280 ? [.temperature, .humidity, .pressure] : [.temperature, .pressure] }

    public func configure() throws {
        let id = try onBus { () throws(I2CError) in try bus.readByteData(address: address, register: Register.chipID) }
        switch variant {
        case .bme280 where id != BME280.bme280ID:
            throw SensorError.wrongChip(
                expected: "BME280 (chip id 0x60)",
                found: BME280.bmp280IDs.contains(id) ? "a BMP280 (chip id \(hex(id))): use driver bmp280" : "chip id \(hex(id))")
        case .bmp280 where !BME280.bmp280IDs.contains(id):
            throw SensorError.wrongChip(
                expected: "BMP280 (chip id 0x58)",
                found: id == BME280.bme280ID ? "a BME280 (chip id 0x60): use driver bme280" : "chip id \(hex(id))")
        default: break
        }
        try readCalibration()
        try onBus { () throws(I2CError) in
            try bus.writeByteData(address: address, register: Register.config, 0x00) // filter off, standby n/a in forced mode
            // ctrl_hum takes effect only after a write to ctrl_meas (datasheet 5.4.3).
            if variant == .bme280 { try bus.writeByteData(address: address, register: Register.controlHumidity, 0x01) }
        }
    }

    func readCalibration() throws {
        let b = try readBlock(Register.calibration, count: 26)
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
        func s16(_ i: Int) -> Int16 { Int16(bitPattern: u16(i)) }
        var c = Calibration()
        c.t1 = u16(0); c.t2 = s16(2); c.t3 = s16(4)
        c.p1 = u16(6); c.p2 = s16(8); c.p3 = s16(10); c.p4 = s16(12); c.p5 = s16(14)
        c.p6 = s16(16); c.p7 = s16(18); c.p8 = s16(20); c.p9 = s16(22)
        c.h1 = b[25]
        if variant == .bme280 {
            let h = try readBlock(Register.humidityCalibration, count: 7)
            c.h2 = Int16(bitPattern: UInt16(h[0]) | UInt16(h[1]) << 8)
            c.h3 = h[2]
            // H4 and H5 are signed 12-bit values sharing register 0xE5 (datasheet Table 16).
            c.h4 = Int16(Int8(bitPattern: h[3])) << 4 | Int16(h[4] & 0x0F)
            c.h5 = Int16(Int8(bitPattern: h[5])) << 4 | Int16(h[4] >> 4)
            c.h6 = Int8(bitPattern: h[6])
        }
        // An all-zero or all-ones calibration means the NVM read failed or the chip is not a Bosch one.
        guard c.t1 != 0, c.t1 != 0xFFFF, c.p1 != 0, c.p1 != 0xFFFF else {
            throw SensorError.invalidReading("calibration data is blank (dig_T1 = \(c.t1), dig_P1 = \(c.p1))")
        }
        calibration = c
    }

    private func readBlock(_ register: UInt8, count: Int) throws -> [UInt8] {
        try buffer.withUnsafeMutableBytes { raw in
            try onBus { () throws(I2CError) in
                try bus.readBlockData(address: address, register: register, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]))
            }
        }
        return buffer
    }

    public func start() throws -> UInt64 {
        // osrs_t = x1, osrs_p = x1, mode = forced (01).
        try onBus { () throws(I2CError) in try bus.writeByteData(address: address, register: Register.controlMeasurement, 0b001_001_01) }
        // Datasheet appendix B (9.1): t_measure,max = 1.25 + 2.3 x 1 + (2.3 x 1 + 0.575) [+ (2.3 x 1 + 0.575)] ms.
        return variant == .bme280 ? 9_300_000 : 6_400_000
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let status = try onBus { () throws(I2CError) in try bus.readByteData(address: address, register: Register.status) }
        if status & 0x08 != 0 {
            throw SensorError.conversionStuck("status register still says measuring after the datasheet's maximum time")
        }
        let count = variant == .bme280 ? 8 : 6
        let d = try readBlock(Register.data, count: count)
        let adcP = Int32(d[0]) << 12 | Int32(d[1]) << 4 | Int32(d[2] >> 4)
        let adcT = Int32(d[3]) << 12 | Int32(d[4]) << 4 | Int32(d[5] >> 4)
        // 0x80000 is what the data registers hold when a measurement was skipped (datasheet 5.4.7).
        guard adcT != 0x80000 else {
            throw SensorError.invalidReading("temperature not measured (0x80000): the chip was reset or is not converting")
        }
        let (centiCelsius, tFine) = BME280.compensateTemperature(adcT, calibration)
        m.add(.temperature, Double(centiCelsius) / 100, decimals: 2)
        if variant == .bme280 {
            let adcH = Int32(d[6]) << 8 | Int32(d[7])
            guard adcH != 0x8000 else { throw SensorError.invalidReading("humidity not measured (0x8000)") }
            m.add(.humidity, Double(BME280.compensateHumidity(adcH, tFine: tFine, calibration)) / 1024, decimals: 2)
        }
        guard adcP != 0x80000 else { throw SensorError.invalidReading("pressure not measured (0x80000)") }
        let q248 = BME280.compensatePressure(adcP, tFine: tFine, calibration)
        guard q248 != 0 else { throw SensorError.invalidReading("pressure compensation divides by zero (bad calibration)") }
        m.add(.pressure, Double(q248) / 256 / 100, decimals: 2)
        return nil
    }

    // MARK: The datasheet's compensation code

    // Wrapping arithmetic throughout: Bosch sized the code for 32/64 bits with real calibration
    // data, and garbage from a failing chip must give a garbage number, never a trap.

    /// Temperature in 0.01 °C and t_fine (datasheet 4.2.3, BME280_compensate_T_int32).
    static func compensateTemperature(_ adcT: Int32, _ c: Calibration) -> (Int32, Int32) {
        let t1 = Int32(c.t1), t2 = Int32(c.t2), t3 = Int32(c.t3)
        let var1 = (((adcT >> 3) &- (t1 << 1)) &* t2) >> 11
        let var2 = (((((adcT >> 4) &- t1) &* ((adcT >> 4) &- t1)) >> 12) &* t3) >> 14
        let tFine = var1 &+ var2
        return ((tFine &* 5 &+ 128) >> 8, tFine)
    }

    /// Pressure in Pa as Q24.8 (datasheet 4.2.3, BME280_compensate_P_int64); 0 on a zero divisor.
    static func compensatePressure(_ adcP: Int32, tFine: Int32, _ c: Calibration) -> UInt32 {
        var var1 = Int64(tFine) - 128000
        var var2 = var1 &* var1 &* Int64(c.p6)
        var2 = var2 &+ ((var1 &* Int64(c.p5)) << 17)
        var2 = var2 &+ (Int64(c.p4) << 35)
        var1 = ((var1 &* var1 &* Int64(c.p3)) >> 8) &+ ((var1 &* Int64(c.p2)) << 12)
        var1 = (((Int64(1) << 47) &+ var1) &* Int64(c.p1)) >> 33
        if var1 == 0 || var1 == -1 { return 0 }
        var p = 1_048_576 - Int64(adcP)
        p = (((p << 31) &- var2) &* 3125) / var1
        var1 = (Int64(c.p9) &* (p >> 13) &* (p >> 13)) >> 25
        var2 = (Int64(c.p8) &* p) >> 19
        p = ((p &+ var1 &+ var2) >> 8) &+ (Int64(c.p7) << 4)
        return UInt32(truncatingIfNeeded: p)
    }

    /// Relative humidity in %RH as Q22.10 (datasheet 4.2.3, bme280_compensate_H_int32).
    static func compensateHumidity(_ adcH: Int32, tFine: Int32, _ c: Calibration) -> UInt32 {
        let h1 = Int32(c.h1), h2 = Int32(c.h2), h3 = Int32(c.h3), h4 = Int32(c.h4), h5 = Int32(c.h5), h6 = Int32(c.h6)
        var v = tFine &- 76800
        let left = (((adcH << 14) &- (h4 << 20) &- (h5 &* v)) &+ 16384) >> 15
        let right = (((((((v &* h6) >> 10) &* (((v &* h3) >> 11) &+ 32768)) >> 10) &+ 2_097_152) &* h2 &+ 8192) >> 14)
        v = left &* right
        v = v &- (((((v >> 15) &* (v >> 15)) >> 7) &* h1) >> 4)
        v = min(max(v, 0), 419_430_400)
        return UInt32(v >> 12)
    }
}
