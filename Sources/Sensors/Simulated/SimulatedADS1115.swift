import Hardware

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
