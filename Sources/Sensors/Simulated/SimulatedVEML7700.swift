import Hardware

public final class SimulatedVEML7700: WordRegisterDevice {
    public var counts: UInt16 = 1000 { didSet { registers[4] = counts } }
    public init() {
        super.init(bigEndian: false)
        registers[7] = 0xC481
        registers[0] = 0x0001 // shut down at power-on
        registers[4] = counts
    }
}
