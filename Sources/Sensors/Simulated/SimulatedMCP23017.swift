import Hardware

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
