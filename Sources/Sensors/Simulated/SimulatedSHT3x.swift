import Hardware

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
