import Hardware

#if canImport(Glibc)
import Glibc
#endif

/// Microchip MCP23017 (datasheet DS20001952): 16 lines in ports A (0-7) and B (8-15), registers
/// in the power-on IOCON.BANK = 0 layout: IODIR 0x00/0x01 (1 = input), GPPU 0x0C/0x0D (100 kOhm
/// pull-ups; no pull-downs), GPIO 0x12/0x13, OLAT 0x14/0x15.
public final class MCP23017: GPIOChip {
    public let name: String
    public let label = "mcp23017"
    public let lineCount = 16
    let bus: any I2CBus
    let address: UInt8
    var direction: UInt16 = 0xFFFF
    var pullUps: UInt16 = 0
    var latch: UInt16 = 0
    var claimed: UInt16 = 0

    public init(name: String, bus: any I2CBus, address: UInt8) throws(GPIOError) {
        self.name = name; self.bus = bus; self.address = address
        // IOCON (0x0A) must read as BANK = 0; on power-on it is 0x00.
        let iocon = try access("read IOCON") { () throws(I2CError) in try bus.readByteData(address: address, register: 0x0A) }
        guard iocon & 0x80 == 0 else {
            throw GPIOError(
                chip: name, line: nil, operation: "IOCON.BANK is 1; edge-agent expects the power-on register layout", errno: EINVAL)
        }
        try writeRegisters()
    }

    private func access<T>(_ what: String, _ body: () throws(I2CError) -> T) throws(GPIOError) -> T {
        do { return try body() } catch { throw GPIOError(chip: name, line: nil, operation: "\(what) (\(error))", errno: error.errno) }
    }

    func writeRegisters() throws(GPIOError) {
        try access("write registers") { () throws(I2CError) in
            try bus.writeWordData(address: address, register: 0x14, latch) // OLATA, OLATB (sequential)
            try bus.writeWordData(address: address, register: 0x0C, pullUps) // GPPUA, GPPUB
            try bus.writeWordData(address: address, register: 0x00, direction) // IODIRA, IODIRB
        }
    }

    func claim(_ offset: Int) throws(GPIOError) {
        guard (0..<16).contains(offset) else {
            throw GPIOError(chip: name, line: offset, operation: "no such line (A0...A7 are 0-7, B0...B7 are 8-15)", errno: 0)
        }
        guard claimed & (1 << offset) == 0 else { throw GPIOError(chip: name, line: offset, operation: "already in use", errno: EBUSY) }
        claimed |= 1 << offset
    }

    public func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput {
        guard options.bias != .pullDown else {
            throw GPIOError(chip: name, line: offset, operation: "the MCP23017 has no pull-downs", errno: EINVAL)
        }
        try claim(offset)
        direction |= 1 << offset
        if options.bias == .pullUp { pullUps |= 1 << offset } else if options.bias == .disabled { pullUps &= ~(1 << offset) }
        try writeRegisters()
        return ExpanderInput(activeLow: options.activeLow) { () throws(GPIOError) in
            let pins = try self.access("read GPIO") { () throws(I2CError) in
                try self.bus.readWordData(address: self.address, register: 0x12)
            }
            return pins & (1 << offset) != 0
        }
    }

    public func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput {
        try claim(offset)
        let high = options.initial != options.activeLow
        if high { latch |= 1 << offset } else { latch &= ~(1 << offset) }
        direction &= ~(1 << offset)
        try writeRegisters()
        return ExpanderOutput(activeLow: options.activeLow, value: options.initial) { (high) throws(GPIOError) in
            if high { self.latch |= 1 << offset } else { self.latch &= ~(1 << offset) }
            try self.access("write OLAT") { () throws(I2CError) in
                try self.bus.writeWordData(address: self.address, register: 0x14, self.latch)
            }
        }
    }
}
