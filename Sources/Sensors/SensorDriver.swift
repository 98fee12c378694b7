import Hardware

/// A sensor driver. Measuring takes time on most chips (a BME280 converts for ~10 ms, a BH1750 for
/// up to 180 ms), and the agent must not block its one loop meanwhile, so a reading is two steps:
/// `start` triggers a conversion and says how long to wait; `collect` reads the result, or says to
/// wait again (a multi-channel ADC converts one channel at a time).
public protocol SensorDriver: AnyObject {
    /// Identifies the chip (chip-id register where it has one) and configures it. Called before
    /// the first reading and again after any failure, so a replugged or reset chip recovers.
    func configure() throws
    /// Starts a measurement; returns nanoseconds to wait before `collect`.
    func start() throws -> UInt64
    /// Reads the finished measurement into `measurement`. Returns nil when the reading is complete,
    /// or nanoseconds to wait before calling `collect` again.
    func collect(into measurement: inout Measurement) throws -> UInt64?
    /// The fields every complete reading carries, in order: what the configuration (variant,
    /// channels) makes this driver write, known before the first reading (Home Assistant discovery).
    var quantities: [Quantity] { get }
}

/// Runs bus operations, turning an `I2CError` into `SensorError.bus`.
@inline(__always)
func onBus<T>(_ body: () throws(I2CError) -> T) throws(SensorError) -> T {
    do { return try body() } catch { throw .bus(error) }
}

/// CRC-8 with polynomial 0x31 (x^8 + x^5 + x^4 + 1), initial value 0xFF, no reflection: the
/// checksum Sensirion (SHT3x, SHT4x) and Aosong (AHT20) chips append to each data word.
/// SHT3x datasheet, section 4.12 (Table 20): CRC(0xBEEF) = 0x92.
public func crc8Sensirion(_ bytes: UnsafeRawBufferPointer) -> UInt8 {
    var crc: UInt8 = 0xFF
    for byte in bytes {
        crc ^= byte
        for _ in 0..<8 { crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x31 : crc << 1 }
    }
    return crc
}

public func crc8Sensirion(_ bytes: [UInt8]) -> UInt8 { bytes.withUnsafeBytes { crc8Sensirion($0) } }

#if canImport(Glibc)
import Glibc
#endif
