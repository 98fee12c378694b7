import Hardware

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
