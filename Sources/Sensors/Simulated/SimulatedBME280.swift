import Hardware

/// BME280 or BMP280 register file (forced mode). Calibration defaults to the BMP280 datasheet's
/// worked example (section 3.12) plus humidity values read from a real BME280.
public final class SimulatedBME280: RegisterMapDevice {
    public var adcT: Int32 = 519_888
    public var adcP: Int32 = 415_148
    public var adcH: Int32 = 30_000
    public var stuck = false
    public let variant: BME280.Variant

    public init(variant: BME280.Variant = .bme280) {
        self.variant = variant
        super.init()
        registers[0xD0] = variant == .bme280 ? 0x60 : 0x58
        let words: [Int] = [27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000]
        for (i, w) in words.enumerated() {
            registers[0x88 + 2 * i] = UInt8(truncatingIfNeeded: w)
            registers[0x89 + 2 * i] = UInt8(truncatingIfNeeded: w >> 8)
        }
        if variant == .bme280 {
            registers[0xA1] = 75 // H1
            registers[0xE1] = 0x6A; registers[0xE2] = 0x01 // H2 = 362
            registers[0xE3] = 0 // H3
            registers[0xE4] = 0x13; registers[0xE5] = 0x29 // H4 = 0x139 = 313, H5 low nibble 2
            registers[0xE6] = 0x03 // H5 = 0x032 = 50
            registers[0xE7] = 30 // H6
        }
        for r in 0xF7...0xFC { registers[r] = r == 0xF7 || r == 0xFA ? 0x80 : 0 } // "skipped" until measured
        registers[0xFD] = 0x80
    }

    public override func didWrite(register: UInt8, value: UInt8) {
        switch register {
        case 0xE0 where value == 0xB6: // soft reset: data back to the skipped value
            registers[0xF4] = 0
        case 0xF4 where value & 0x03 != 0:
            if stuck { registers[0xF3] = 0x08; return }
            let p = UInt32(bitPattern: adcP), t = UInt32(bitPattern: adcT)
            registers[0xF7] = UInt8(p >> 12 & 0xFF); registers[0xF8] = UInt8(p >> 4 & 0xFF); registers[0xF9] = UInt8((p & 0xF) << 4)
            registers[0xFA] = UInt8(t >> 12 & 0xFF); registers[0xFB] = UInt8(t >> 4 & 0xFF); registers[0xFC] = UInt8((t & 0xF) << 4)
            if variant == .bme280 { registers[0xFD] = UInt8(adcH >> 8 & 0xFF); registers[0xFE] = UInt8(adcH & 0xFF) }
            registers[0xF4] = value & ~0x03 // back to sleep mode
            registers[0xF3] = 0
        default: break
        }
    }
}
