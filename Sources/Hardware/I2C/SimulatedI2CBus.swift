/// A simulated I2C bus: each address holds a chip model that answers transactions the way its
/// datasheet says the chip does. An empty address does not acknowledge, as on a real bus.
public final class SimulatedI2CBus: I2CBus {
    public let number: Int
    public private(set) var devices: [UInt8: any SimulatedI2CDevice] = [:]

    public init(number: Int) { self.number = number }

    public func attach(_ device: any SimulatedI2CDevice, at address: UInt8) { devices[address] = device }
    public func detach(address: UInt8) { devices[address] = nil }

    public func transfer(address: UInt8, write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) throws(I2CError) {
        guard let device = devices[address], device.transfer(write: write, read: read) else {
            throw I2CError(
                bus: number, address: address, register: write.first, operation: read.count > 0 ? "read" : "write", errno: EREMOTEIO_VALUE)
        }
    }
}

/// Linux's EREMOTEIO (121), the errno a NACK gives on the Raspberry Pi's I2C controller.
let EREMOTEIO_VALUE: Int32 = 121

/// A chip with 8-bit registers behind a register pointer that auto-increments (BME280, BMP280,
/// MCP23017, ...): a write sets the pointer and stores any further bytes; a read returns bytes
/// from the pointer on. Subclasses add what writing a particular register does.
open class RegisterMapDevice: SimulatedI2CDevice {
    public var registers = [UInt8](repeating: 0, count: 256)
    public var pointer: UInt8 = 0
    /// While true the chip does not acknowledge (unplugged, unpowered, or held in reset).
    public var absent = false

    public init() {}

    open func didWrite(register: UInt8, value: UInt8) {}
    open func willRead(register: UInt8) {}

    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent { return false }
        if let first = write.first {
            pointer = first
            for value in write.dropFirst() {
                registers[Int(pointer)] = value
                didWrite(register: pointer, value: value)
                pointer &+= 1
            }
        }
        for i in 0..<read.count {
            willRead(register: pointer)
            read[i] = registers[Int(pointer)]
            pointer &+= 1
        }
        return true
    }
}

/// A chip with 16-bit registers behind a pointer register (TMP102, LM75, MCP9808, INA219,
/// ADS1115; VEML7700 with little-endian words): write [pointer] or [pointer, byte, byte]; a
/// read returns the pointed-to register, repeating after two bytes.
open class WordRegisterDevice: SimulatedI2CDevice {
    public var registers = [UInt16](repeating: 0, count: 256)
    public var pointer: UInt8 = 0
    public let bigEndian: Bool
    public var absent = false

    public init(bigEndian: Bool = true) { self.bigEndian = bigEndian }

    open func didWrite(register: UInt8, value: UInt16) { registers[Int(register)] = value }
    open func willRead(register: UInt8) {}
    /// An 8-bit register among the 16-bit ones (LM75 and MCP9808 configuration, resolution).
    open func didWrite(register: UInt8, byte: UInt8) { registers[Int(register)] = bigEndian ? UInt16(byte) << 8 : UInt16(byte) }

    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent { return false }
        if let first = write.first {
            pointer = first
            if write.count >= 3 {
                let a = UInt16(write[1]), b = UInt16(write[2])
                didWrite(register: pointer, value: bigEndian ? a << 8 | b : b << 8 | a)
            } else if write.count == 2 {
                didWrite(register: pointer, byte: write[1])
            }
        }
        if read.count > 0 { willRead(register: pointer) }
        let value = registers[Int(pointer)]
        for i in 0..<read.count {
            let high = i % 2 == 0 ? bigEndian : !bigEndian
            read[i] = high ? UInt8(value >> 8) : UInt8(value & 0xFF)
        }
        return true
    }
}
