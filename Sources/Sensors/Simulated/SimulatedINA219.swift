import Hardware

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
