#if canImport(Glibc)
import Glibc
#endif

/// An I2C bus: a Linux `/dev/i2c-N` or a simulated one. Drivers depend on this protocol only.
///
/// The SMBus operations follow the SMBus specification's byte order (words are sent low byte
/// first). Chips that send big-endian words (most temperature sensors, ADCs, power monitors) use
/// `readWordBigEndian`. `transfer` is a combined write-then-read with a repeated start (I2C_RDWR)
/// for chips that take commands rather than registers; not every adapter supports it (i2c-stub
/// does not), so drivers for register-based chips use the SMBus calls.
public protocol I2CBus: AnyObject {
    /// The bus number, `N` in `/dev/i2c-N`, for error messages.
    var number: Int { get }
    /// Writes `write` (if any), then reads `read.count` bytes (if any) in one transaction.
    func transfer(address: UInt8, write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) throws(I2CError)
    /// SMBus quick write: whether a device acknowledges its address (for scanning).
    func probe(address: UInt8) -> Bool
    func readByte(address: UInt8) throws(I2CError) -> UInt8
    func writeByte(address: UInt8, _ value: UInt8) throws(I2CError)
    func readByteData(address: UInt8, register: UInt8) throws(I2CError) -> UInt8
    func writeByteData(address: UInt8, register: UInt8, _ value: UInt8) throws(I2CError)
    func readWordData(address: UInt8, register: UInt8) throws(I2CError) -> UInt16
    func writeWordData(address: UInt8, register: UInt8, _ value: UInt16) throws(I2CError)
    /// I2C block read of `into.count` bytes (at most 32) starting at `register`.
    func readBlockData(address: UInt8, register: UInt8, into: UnsafeMutableRawBufferPointer) throws(I2CError)
    func writeBlockData(address: UInt8, register: UInt8, _ bytes: UnsafeRawBufferPointer) throws(I2CError)
}

/// The SMBus operations expressed as plain transfers, which is what they are on the wire. The
/// simulated bus uses these; the Linux bus overrides them with libi2c's SMBus calls.
extension I2CBus {
    public func probe(address: UInt8) -> Bool {
        do {
            try transfer(
                address: address, write: UnsafeRawBufferPointer(start: nil, count: 0),
                read: UnsafeMutableRawBufferPointer(start: nil, count: 0));
            return true
        } catch { return false }
    }

    public func readByte(address: UInt8) throws(I2CError) -> UInt8 {
        var value: UInt8 = 0
        try withUnsafeMutableBytes(of: &value) { (read) throws(I2CError) in
            try transfer(address: address, write: UnsafeRawBufferPointer(start: nil, count: 0), read: read)
        }
        return value
    }

    public func writeByte(address: UInt8, _ value: UInt8) throws(I2CError) {
        try withUnsafeBytes(of: value) { (write) throws(I2CError) in
            try transfer(address: address, write: write, read: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
    }

    public func readByteData(address: UInt8, register: UInt8) throws(I2CError) -> UInt8 {
        var value: UInt8 = 0
        try withUnsafeMutableBytes(of: &value) { (read) throws(I2CError) in
            try withUnsafeBytes(of: register) { (write) throws(I2CError) in
                try transfer(address: address, write: write, read: read)
            }
        }
        return value
    }

    public func writeByteData(address: UInt8, register: UInt8, _ value: UInt8) throws(I2CError) {
        try withUnsafeBytes(of: (register, value)) { (write) throws(I2CError) in
            try transfer(address: address, write: write, read: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
    }

    public func readWordData(address: UInt8, register: UInt8) throws(I2CError) -> UInt16 {
        var bytes: (UInt8, UInt8) = (0, 0)
        try withUnsafeMutableBytes(of: &bytes) { (read) throws(I2CError) in
            try withUnsafeBytes(of: register) { (write) throws(I2CError) in
                try transfer(address: address, write: write, read: read)
            }
        }
        return UInt16(bytes.0) | UInt16(bytes.1) << 8
    }

    public func writeWordData(address: UInt8, register: UInt8, _ value: UInt16) throws(I2CError) {
        try withUnsafeBytes(of: (register, UInt8(value & 0xFF), UInt8(value >> 8))) { (write) throws(I2CError) in
            try transfer(address: address, write: write, read: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
    }

    public func readBlockData(address: UInt8, register: UInt8, into: UnsafeMutableRawBufferPointer) throws(I2CError) {
        try withUnsafeBytes(of: register) { (write) throws(I2CError) in
            try transfer(address: address, write: write, read: into)
        }
    }

    public func writeBlockData(address: UInt8, register: UInt8, _ bytes: UnsafeRawBufferPointer) throws(I2CError) {
        // register + at most 32 data bytes, on the stack.
        var frame: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        let count = min(bytes.count, 32)
        try withUnsafeMutableBytes(of: &frame) { (raw) throws(I2CError) in
            raw[0] = register
            for i in 0..<count { raw[1 + i] = bytes[i] }
            try transfer(
                address: address, write: UnsafeRawBufferPointer(rebasing: raw[0..<(1 + count)]),
                read: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        }
    }
}

extension I2CBus {
    /// A 16-bit register sent most significant byte first (TMP102, LM75, MCP9808, INA219, ADS1115).
    public func readWordBigEndian(address: UInt8, register: UInt8) throws(I2CError) -> UInt16 {
        try readWordData(address: address, register: register).byteSwapped
    }

    public func writeWordBigEndian(address: UInt8, register: UInt8, _ value: UInt16) throws(I2CError) {
        try writeWordData(address: address, register: register, value.byteSwapped)
    }

    /// Writes a command (one or more bytes) with no register and nothing read back.
    public func write(address: UInt8, _ bytes: UnsafeRawBufferPointer) throws(I2CError) {
        try transfer(address: address, write: bytes, read: UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }

    /// Reads `into.count` bytes with no register written first.
    public func read(address: UInt8, into: UnsafeMutableRawBufferPointer) throws(I2CError) {
        try transfer(address: address, write: UnsafeRawBufferPointer(start: nil, count: 0), read: into)
    }
}

/// `0x76`-style hexadecimal for addresses and registers.
public func hex(_ value: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return "0x" + String(decoding: [digits[Int(value >> 4)], digits[Int(value & 0xF)]], as: UTF8.self)
}
