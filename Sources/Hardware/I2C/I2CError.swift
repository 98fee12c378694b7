#if canImport(Glibc)
import Glibc
#endif

/// A failed bus operation, naming the bus, address, register and errno.
public struct I2CError: Error, Equatable, CustomStringConvertible {
    public let bus: Int
    public let address: UInt8
    public let register: UInt8?
    public let operation: String
    public let errno: Int32

    public init(bus: Int, address: UInt8, register: UInt8?, operation: String, errno: Int32) {
        self.bus = bus; self.address = address; self.register = register; self.operation = operation; self.errno = errno
    }

    /// The device did not acknowledge: absent, unpowered, or busy (Linux reports ENXIO or EREMOTEIO).
    public var isNoAcknowledge: Bool { errno == ENXIO || errno == EREMOTEIO || errno == ENODEV }

    public var description: String {
        var text = "i2c-\(bus) address \(hex(address))"
        if let register { text += " register \(hex(register))" }
        text += ": \(operation): "
        text += isNoAcknowledge ? "no acknowledgement (\(String(cString: strerror(errno))))" : String(cString: strerror(errno))
        return text
    }
}
