import Hardware

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
