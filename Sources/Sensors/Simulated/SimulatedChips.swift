import Hardware

// Chip models for the simulated bus: each answers as its datasheet says the chip does, with
// faults to inject (`absent` for a NACK, `stuck` for a conversion that never finishes,
// `corruptCRC` for a bad checksum). Raw values are set directly, in the chip's own units.

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

/// A chip that takes commands and answers with prepared bytes (Sensirion, Aosong, ROHM).
public class SimulatedCommandDevice: SimulatedI2CDevice {
    public var absent = false
    public var stuck = false
    public var corruptCRC = false
    var response: [UInt8] = []
    /// A measurement is under way and the chip does not acknowledge reads (SHT3x, SHT4x).
    var nackReads = false
    /// After a soft reset the chip acknowledges nothing until this time (monotonic ns).
    var busyUntil: UInt64 = 0
    /// With `recordsCommands`, every command the chip was sent, in order: what a test sees of the
    /// driver's steps (off on the simulated board, where it would grow without end).
    public var recordsCommands = false
    public private(set) var commands: [[UInt8]] = []

    func handle(command: [UInt8]) {}

    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent || monotonicNanoseconds() < busyUntil { return false }
        if write.count > 0 {
            if recordsCommands { commands.append(Array(write)) }
            handle(command: Array(write))
        }
        if read.count > 0 {
            if nackReads { return false }
            for i in 0..<read.count { read[i] = i < response.count ? response[i] : 0xFF }
        }
        return true
    }

    /// Words framed as MSB, LSB, CRC.
    func words(_ values: UInt16...) -> [UInt8] {
        var bytes: [UInt8] = []
        for v in values {
            let pair = [UInt8(v >> 8), UInt8(v & 0xFF)]
            bytes += pair + [crc8Sensirion(pair) ^ (corruptCRC ? 0x5A : 0)]
        }
        return bytes
    }
}

public final class SimulatedSHT3x: SimulatedCommandDevice {
    public var rawT: UInt16 = 0x6666 // about 25 °C
    public var rawRH: UInt16 = 0x8000 // about 50 %
    public override init() {}
    override func handle(command: [UInt8]) {
        nackReads = false
        switch (command.first, command.dropFirst().first) {
        case (0x24, 0x00): nackReads = stuck; response = words(rawT, rawRH)
        case (0xF3, 0x2D): response = words(0x8010)
        case (0x30, 0xA2): busyUntil = monotonicNanoseconds() + SHT3x.resetNanoseconds // soft reset
        default: response = []
        }
    }
}

public final class SimulatedSHT4x: SimulatedCommandDevice {
    public var rawT: UInt16 = 0x6666
    public var rawRH: UInt16 = 0x7000
    public override init() {}
    override func handle(command: [UInt8]) {
        nackReads = false
        switch command.first {
        case 0xFD: nackReads = stuck; response = words(rawT, rawRH)
        case 0x89: response = words(0x0F2B, 0x7A11)
        case 0x94: busyUntil = monotonicNanoseconds() + SHT4x.commandNanoseconds // soft reset
        default: response = []
        }
    }
}

public final class SimulatedAHT20: SimulatedCommandDevice {
    public var rawRH: UInt32 = 0x80000 // 50 %
    public var rawT: UInt32 = 0x66666 // 30 °C
    public var calibrated = true
    /// When power came on (monotonic ns): for 40 ms after it the chip answers nothing (datasheet 7.4).
    public var poweredOnAt: UInt64 = 0
    public override init() {}
    public override func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if monotonicNanoseconds() < poweredOnAt + 40_000_000 { return false }
        return super.transfer(write: write, read: read)
    }
    override func handle(command: [UInt8]) {
        switch command.first {
        case 0x71: response = [calibrated ? 0x18 : 0x10]
        case 0xBE: calibrated = true
        case 0xAC:
            var r: [UInt8] = [
                stuck ? 0x98 : 0x18, UInt8(rawRH >> 12 & 0xFF), UInt8(rawRH >> 4 & 0xFF),
                UInt8((rawRH & 0xF) << 4 | (rawT >> 16 & 0xF)), UInt8(rawT >> 8 & 0xFF), UInt8(rawT & 0xFF),
            ]
            r.append(crc8Sensirion(r) ^ (corruptCRC ? 0x5A : 0))
            response = r
        default: break
        }
    }
}

public final class SimulatedBH1750: SimulatedCommandDevice {
    public var count: UInt16 = 0x8390 // the datasheet's example: 28067 lx
    var poweredOn = false
    public override init() {}
    override func handle(command: [UInt8]) {
        switch command.first {
        case 0x01: poweredOn = true
        case 0x00: poweredOn = false
        case 0x20 where poweredOn: response = [UInt8(count >> 8), UInt8(count & 0xFF)]
        default: break
        }
    }
}

public final class SimulatedVEML7700: WordRegisterDevice {
    public var counts: UInt16 = 1000 { didSet { registers[4] = counts } }
    public init() {
        super.init(bigEndian: false)
        registers[7] = 0xC481
        registers[0] = 0x0001 // shut down at power-on
        registers[4] = counts
    }
}

/// TMP102, LM75 or MCP9808: a temperature register and their identifying registers.
public final class SimulatedTemperatureChip: WordRegisterDevice {
    public enum Kind: Sendable { case tmp102, lm75, mcp9808 }
    public var raw: UInt16 { didSet { registers[Int(temperatureRegister)] = raw } }
    let temperatureRegister: UInt8

    public init(_ kind: Kind, raw: UInt16) {
        self.raw = raw
        temperatureRegister = kind == .mcp9808 ? 0x05 : 0x00
        super.init()
        registers[Int(temperatureRegister)] = raw
        switch kind {
        case .tmp102: registers[1] = 0x60A0
        case .lm75: registers[1] = 0x0000
        case .mcp9808: registers[6] = 0x0054; registers[7] = 0x0400; registers[8] = 0x0300
        }
    }
}

public final class SimulatedADS1115: WordRegisterDevice {
    /// Output code per multiplexer setting (0b100 = AIN0 single-ended, ...).
    public var codes: [UInt16: Int16] = [0b100: 16000, 0b101: 8000, 0b110: -1, 0b111: 0x7FFF]
    public var stuck = false
    public init() {
        super.init()
        registers[1] = 0x8583 // power-on config
    }
    public override func didWrite(register: UInt8, value: UInt16) {
        guard register == 1 else { registers[Int(register)] = value; return }
        registers[1] = value
        if value & 0x8000 != 0 {
            if stuck { registers[1] = value & 0x7FFF; return }
            registers[0] = UInt16(bitPattern: codes[(value >> 12) & 0x7] ?? 0)
        }
    }
}

public final class SimulatedINA219: WordRegisterDevice {
    public var shuntMillivolts: Double = 20 // 200 mA through 0.1 ohm
    public var busVolts: Double = 12
    public var stuck = false
    public init() {
        super.init()
        registers[0] = 0x399F
    }
    public override func didWrite(register: UInt8, value: UInt16) {
        switch register {
        case 0 where value & 0x8000 != 0:
            registers = [UInt16](repeating: 0, count: 256); registers[0] = 0x399F
        case 0:
            registers[0] = value
            guard value & 0x7 != 0, !stuck else { registers[2] &= ~0x2; return }
            let shunt = Int16((shuntMillivolts * 100).rounded())
            registers[1] = UInt16(bitPattern: shunt)
            let cal = Int32(registers[5])
            // Equations 4 and 5: Current = Shunt x Cal / 4096; Power = Current x Bus / 5000.
            let current = Int32(shunt) * cal / 4096
            registers[4] = UInt16(bitPattern: Int16(clamping: current))
            let busCounts = UInt16(busVolts / 0.004)
            registers[2] = busCounts << 3 | 0x2
            registers[3] = UInt16(clamping: abs(current) * Int32(busCounts) / 5000)
        case 5: registers[5] = value & 0xFFFE
        default: registers[Int(register)] = value
        }
    }
    public override func willRead(register: UInt8) {
        if register == 3 { registers[2] &= ~0x2 } // reading power clears CNVR
    }
}

/// PCF8574: pins read back as the latch ANDed with what drives them from outside.
public final class SimulatedPCF8574: SimulatedI2CDevice {
    public var latch: UInt8 = 0xFF
    /// Levels forced from outside (a button to ground pulls a bit to 0).
    public var external: UInt8 = 0xFF
    public var absent = false
    public init() {}
    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent { return false }
        if let last = write.last { latch = last }
        for i in 0..<read.count { read[i] = latch & external }
        return true
    }
}

public final class SimulatedMCP23017: RegisterMapDevice {
    /// Levels driven from outside on input pins (bit per line, A0 = bit 0, B0 = bit 8), where
    /// `driven` has the bit set; other inputs float to their pull-up (or read low without one).
    public var external: UInt16 = 0
    public var driven: UInt16 = 0
    public override init() {
        super.init()
        registers[0x00] = 0xFF; registers[0x01] = 0xFF // all inputs at power-on
    }
    var outputs: UInt16 { UInt16(registers[0x14]) | UInt16(registers[0x15]) << 8 }
    var directions: UInt16 { UInt16(registers[0x00]) | UInt16(registers[0x01]) << 8 }
    var pullUps: UInt16 { UInt16(registers[0x0C]) | UInt16(registers[0x0D]) << 8 }
    /// The level on each pin: outputs drive, inputs follow outside or their pull-up.
    public var pins: UInt16 { (outputs & ~directions) | (((external & driven) | (pullUps & ~driven)) & directions) }
    public override func willRead(register: UInt8) {
        if register == 0x12 { registers[0x12] = UInt8(pins & 0xFF) }
        if register == 0x13 { registers[0x13] = UInt8(pins >> 8) }
    }
}
