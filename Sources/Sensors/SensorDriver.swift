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
}

/// One reading's values, with their units in the key names (`temperature_c`, `pressure_hpa`).
/// Keys are static strings and the storage is reused, so a reading allocates nothing.
public struct Measurement {
    public struct Field {
        public let key: StaticString
        public let value: Double
        /// Decimal places worth printing (the chip's resolution).
        public let decimals: Int
    }

    public private(set) var fields: [Field] = []

    public init() { fields.reserveCapacity(16) }

    public mutating func reset() { fields.removeAll(keepingCapacity: true) }

    public mutating func add(_ key: StaticString, _ value: Double, decimals: Int) {
        fields.append(Field(key: key, value: value, decimals: decimals))
    }

    public subscript(key: String) -> Double? {
        fields.first { $0.key.description == key }?.value
    }
}

public enum SensorError: Error, Equatable, CustomStringConvertible {
    case bus(I2CError)
    /// The chip at the address is not the one configured (or not a chip of that family).
    case wrongChip(expected: String, found: String)
    /// A CRC over data the chip sent did not match.
    case checksum(what: String, received: UInt8, computed: UInt8)
    /// The chip still reported busy after the datasheet's maximum conversion time.
    case conversionStuck(String)
    /// A value the datasheet says cannot come out of a working chip.
    case invalidReading(String)
    /// A driver option is missing, unknown or out of range.
    case option(String)
    /// A kernel interface file (1-wire sysfs) could not be read.
    case file(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .bus(let error): return "\(error)"
        case .wrongChip(let expected, let found): return "wrong chip: expected \(expected), found \(found)"
        case .checksum(let what, let received, let computed):
            return "CRC mismatch in \(what): received \(hex(received)), computed \(hex(computed))"
        case .conversionStuck(let what): return "conversion stuck: \(what)"
        case .invalidReading(let what): return "invalid reading: \(what)"
        case .option(let what): return "option: \(what)"
        case .file(let path, let errno): return "\(path): \(String(cString: strerror(errno)))"
        }
    }
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
