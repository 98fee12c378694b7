import Hardware

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
