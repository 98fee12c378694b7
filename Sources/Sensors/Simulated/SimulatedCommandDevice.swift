import Hardware

// Chip models for the simulated bus (this directory, one file each): each answers as its datasheet
// says the chip does, with faults to inject (`absent` for a NACK, `stuck` for a conversion that
// never finishes, `corruptCRC` for a bad checksum). Raw values are set directly, in the chip's own
// units.

/// A chip that takes commands and answers with prepared bytes (Sensirion, Aosong, ROHM).
public class SimulatedCommandDevice: SimulatedI2CDevice {
    public var absent = false
    public var stuck = false
    public var corruptCRC = false
    var response: [UInt8] = []
    /// A measurement is under way and the chip does not acknowledge reads (SHT3x, SHT4x).
    var nackReads = false
    /// After a soft reset the chip acknowledges nothing until this time (monotonic ns).
    var busyUntil: UInt64 = 0
    /// With `recordsCommands`, every command the chip was sent, in order: what a test sees of the
    /// driver's steps (off on the simulated board, where it would grow without end).
    public var recordsCommands = false
    public private(set) var commands: [[UInt8]] = []

    func handle(command: [UInt8]) {}

    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent || monotonicNanoseconds() < busyUntil { return false }
        if write.count > 0 {
            if recordsCommands { commands.append(Array(write)) }
            handle(command: Array(write))
        }
        if read.count > 0 {
            if nackReads { return false }
            for i in 0..<read.count { read[i] = i < response.count ? response[i] : 0xFF }
        }
        return true
    }

    /// Words framed as MSB, LSB, CRC.
    func words(_ values: UInt16...) -> [UInt8] {
        var bytes: [UInt8] = []
        for v in values {
            let pair = [UInt8(v >> 8), UInt8(v & 0xFF)]
            bytes += pair + [crc8Sensirion(pair) ^ (corruptCRC ? 0x5A : 0)]
        }
        return bytes
    }
}
