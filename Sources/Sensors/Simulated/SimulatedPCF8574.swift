import Hardware

/// PCF8574: pins read back as the latch ANDed with what drives them from outside.
public final class SimulatedPCF8574: SimulatedI2CDevice {
    public var latch: UInt8 = 0xFF
    /// Levels forced from outside (a button to ground pulls a bit to 0).
    public var external: UInt8 = 0xFF
    public var absent = false
    public init() {}
    public func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool {
        if absent { return false }
        if let last = write.last { latch = last }
        for i in 0..<read.count { read[i] = latch & external }
        return true
    }
}
