import Hardware

#if canImport(Glibc)
import Glibc
#endif

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
