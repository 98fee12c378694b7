import CI2C

#if canImport(Glibc)
import Glibc
#endif

/// `/dev/i2c-N` through the kernel's i2c-dev interface and libi2c's SMBus helpers.
///
/// The target address is set with I2C_SLAVE only when it changes, so a driver talking to one chip
/// makes one ioctl per operation. Not thread-safe: the agent drives every bus from its one loop.
public final class LinuxI2CBus: I2CBus {
    public let number: Int
    public let path: String
    private let fd: Int32
    private var currentAddress: Int32 = -1
    /// The adapter's I2C_FUNCS bits: whether it can do plain I2C transfers, SMBus quick, ...
    public let functions: UInt

    public init(number: Int, devicePath: String? = nil) throws(I2CError) {
        self.number = number
        path = devicePath ?? "/dev/i2c-\(number)"
        fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw I2CError(bus: number, address: 0, register: nil, operation: "open \(path)", errno: Glibc.errno) }
        var bits: UInt = 0
        functions = edge_i2c_functions(fd, &bits) == 0 ? bits : 0
    }

    deinit { close(fd) }

    public var supportsPlainTransfers: Bool { functions & UInt(I2C_FUNC_I2C) != 0 }

    private func select(_ address: UInt8, register: UInt8?, _ operation: String) throws(I2CError) {
        guard Int32(address) != currentAddress else { return }
        guard edge_i2c_set_target(fd, Int32(address)) == 0 else {
            throw I2CError(bus: number, address: address, register: register, operation: operation + " (I2C_SLAVE)", errno: Glibc.errno)
        }
        currentAddress = Int32(address)
    }

    /// Runs one libi2c call, which returns a negative errno-style result on failure.
    @inline(__always)
    private func smbus(_ address: UInt8, _ register: UInt8?, _ operation: String, _ call: () -> Int32) throws(I2CError) -> Int32 {
        try select(address, register: register, operation)
        let result = call()
        guard result >= 0 else {
            throw I2CError(
                bus: number, address: address, register: register, operation: operation, errno: result < -1 ? -result : Glibc.errno)
        }
        return result
    }

    public func transfer(address: UInt8, write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) throws(I2CError) {
        var messages = (i2c_msg(), i2c_msg())
        var count: UInt32 = 0
        withUnsafeMutableBytes(of: &messages) { raw in
            let m = raw.bindMemory(to: i2c_msg.self)
            if write.count > 0 {
                m[0] = i2c_msg(
                    addr: UInt16(address), flags: 0, len: UInt16(write.count),
                    buf: UnsafeMutablePointer(mutating: write.baseAddress!.assumingMemoryBound(to: UInt8.self)))
                count += 1
            }
            if read.count > 0 {
                m[Int(count)] = i2c_msg(
                    addr: UInt16(address), flags: UInt16(I2C_M_RD), len: UInt16(read.count),
                    buf: read.baseAddress!.assumingMemoryBound(to: UInt8.self))
                count += 1
            }
        }
        if count == 0 { _ = try smbus(address, nil, "quick write") { i2c_smbus_write_quick(fd, UInt8(I2C_SMBUS_WRITE)) }; return }
        let result = withUnsafeMutableBytes(of: &messages) { raw in
            edge_i2c_rdwr(fd, raw.baseAddress!.assumingMemoryBound(to: i2c_msg.self), count)
        }
        guard result >= 0 else {
            throw I2CError(bus: number, address: address, register: nil, operation: "transfer (I2C_RDWR)", errno: Glibc.errno)
        }
    }

    /// Like i2cdetect: a quick write, except where that can corrupt an EEPROM (0x50-0x5f) or
    /// lock up some chips (0x30-0x37), where it reads a byte instead.
    public func probe(address: UInt8) -> Bool {
        let readInstead = (0x30...0x37).contains(address) || (0x50...0x5F).contains(address)
        return
            (try? smbus(address, nil, "probe") {
                readInstead ? i2c_smbus_read_byte(fd) : i2c_smbus_write_quick(fd, UInt8(I2C_SMBUS_WRITE))
            }) != nil
    }

    public func readByte(address: UInt8) throws(I2CError) -> UInt8 {
        UInt8(truncatingIfNeeded: try smbus(address, nil, "read byte") { i2c_smbus_read_byte(fd) })
    }

    public func writeByte(address: UInt8, _ value: UInt8) throws(I2CError) {
        _ = try smbus(address, nil, "write byte") { i2c_smbus_write_byte(fd, value) }
    }

    public func readByteData(address: UInt8, register: UInt8) throws(I2CError) -> UInt8 {
        UInt8(truncatingIfNeeded: try smbus(address, register, "read byte") { i2c_smbus_read_byte_data(fd, register) })
    }

    public func writeByteData(address: UInt8, register: UInt8, _ value: UInt8) throws(I2CError) {
        _ = try smbus(address, register, "write byte") { i2c_smbus_write_byte_data(fd, register, value) }
    }

    public func readWordData(address: UInt8, register: UInt8) throws(I2CError) -> UInt16 {
        UInt16(truncatingIfNeeded: try smbus(address, register, "read word") { i2c_smbus_read_word_data(fd, register) })
    }

    public func writeWordData(address: UInt8, register: UInt8, _ value: UInt16) throws(I2CError) {
        _ = try smbus(address, register, "write word") { i2c_smbus_write_word_data(fd, register, value) }
    }

    public func readBlockData(address: UInt8, register: UInt8, into: UnsafeMutableRawBufferPointer) throws(I2CError) {
        guard into.count > 0 else { return }
        let wanted = UInt8(min(into.count, 32))
        let got = try smbus(address, register, "read block") {
            i2c_smbus_read_i2c_block_data(fd, register, wanted, into.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard got == Int32(wanted) else {
            throw I2CError(
                bus: number, address: address, register: register, operation: "read block (\(got) of \(wanted) bytes)", errno: EIO)
        }
    }

    public func writeBlockData(address: UInt8, register: UInt8, _ bytes: UnsafeRawBufferPointer) throws(I2CError) {
        guard bytes.count > 0 else { return }
        _ = try smbus(address, register, "write block") {
            i2c_smbus_write_i2c_block_data(
                fd, register, UInt8(min(bytes.count, 32)), bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}
