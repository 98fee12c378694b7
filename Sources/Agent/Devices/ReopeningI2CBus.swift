import Hardware
import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// A Linux I2C bus opened on first use and reopened after a failure to open, so a bus that
/// appears later (a module loaded, an overlay applied) is picked up by the sensor retries.
final class ReopeningI2CBus: I2CBus {
    let number: Int
    private var bus: LinuxI2CBus?

    init(number: Int) { self.number = number }

    private func open() throws(I2CError) -> LinuxI2CBus {
        if let bus { return bus }
        let opened = try LinuxI2CBus(number: number)
        bus = opened
        return opened
    }

    func transfer(address: UInt8, write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) throws(I2CError) {
        try open().transfer(address: address, write: write, read: read)
    }
    func probe(address: UInt8) -> Bool { (try? open().probe(address: address)) ?? false }
    func readByte(address: UInt8) throws(I2CError) -> UInt8 { try open().readByte(address: address) }
    func writeByte(address: UInt8, _ value: UInt8) throws(I2CError) { try open().writeByte(address: address, value) }
    func readByteData(address: UInt8, register: UInt8) throws(I2CError) -> UInt8 {
        try open().readByteData(address: address, register: register)
    }
    func writeByteData(address: UInt8, register: UInt8, _ value: UInt8) throws(I2CError) {
        try open().writeByteData(address: address, register: register, value)
    }
    func readWordData(address: UInt8, register: UInt8) throws(I2CError) -> UInt16 {
        try open().readWordData(address: address, register: register)
    }
    func writeWordData(address: UInt8, register: UInt8, _ value: UInt16) throws(I2CError) {
        try open().writeWordData(address: address, register: register, value)
    }
    func readBlockData(address: UInt8, register: UInt8, into: UnsafeMutableRawBufferPointer) throws(I2CError) {
        try open().readBlockData(address: address, register: register, into: into)
    }
    func writeBlockData(address: UInt8, register: UInt8, _ bytes: UnsafeRawBufferPointer) throws(I2CError) {
        try open().writeBlockData(address: address, register: register, bytes)
    }
}
