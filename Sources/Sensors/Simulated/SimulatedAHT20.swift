import Hardware

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
