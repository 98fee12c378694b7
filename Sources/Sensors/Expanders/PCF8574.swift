import Hardware

#if canImport(Glibc)
import Glibc
#endif

/// I2C IO expanders as GPIO chips. Neither interrupt pin is wired through here, so inputs have
/// no event descriptor and the agent polls them (and debounces in software like any line).
///
/// NXP PCF8574 (datasheet rev. 5): 8 quasi-bidirectional pins, no registers. Writing a byte sets
/// the pins (1 = weak pull-up, usable as input; 0 = driven low); reading returns the pin levels.
/// So an input is a pin whose output latch is 1, and the weak pull-up is its only bias.
public final class PCF8574: GPIOChip {
    public let name: String
    public let label = "pcf8574"
    public let lineCount = 8
    let bus: any I2CBus
    let address: UInt8
    /// What was last written: 1 bits are inputs or outputs set high.
    var latch: UInt8 = 0xFF
    var claimed: UInt8 = 0

    public init(name: String, bus: any I2CBus, address: UInt8) throws(GPIOError) {
        self.name = name; self.bus = bus; self.address = address
        try writeLatch()
    }

    func writeLatch() throws(GPIOError) {
        do { try bus.writeByte(address: address, latch) } catch {
            throw GPIOError(chip: name, line: nil, operation: "write (\(error))", errno: error.errno)
        }
    }

    func readPins() throws(GPIOError) -> UInt8 {
        do { return try bus.readByte(address: address) } catch {
            throw GPIOError(chip: name, line: nil, operation: "read (\(error))", errno: error.errno)
        }
    }

    func claim(_ offset: Int) throws(GPIOError) {
        guard (0..<8).contains(offset) else { throw GPIOError(chip: name, line: offset, operation: "no such line (P0...P7)", errno: 0) }
        guard claimed & (1 << offset) == 0 else { throw GPIOError(chip: name, line: offset, operation: "already in use", errno: EBUSY) }
        claimed |= 1 << offset
    }

    public func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput {
        guard options.bias != .pullDown else {
            throw GPIOError(chip: name, line: offset, operation: "the PCF8574 has no pull-down", errno: EINVAL)
        }
        try claim(offset)
        latch |= 1 << offset
        try writeLatch()
        return ExpanderInput(activeLow: options.activeLow) { () throws(GPIOError) in try self.readPins() & (1 << offset) != 0 }
    }

    public func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput {
        try claim(offset)
        let output = ExpanderOutput(activeLow: options.activeLow) { (high) throws(GPIOError) in
            if high { self.latch |= 1 << offset } else { self.latch &= ~(1 << offset) }
            try self.writeLatch()
        }
        try output.set(options.initial)
        return output
    }
}
