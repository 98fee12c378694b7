#if canImport(Glibc)
import Glibc
#endif

/// Maxim DS18B20 through the kernel's 1-wire interface (w1-gpio + w1_therm, `dtoverlay=w1-gpio`).
///
/// Reading `w1_slave` makes the kernel convert (750 ms at 12 bits) and blocks meanwhile; even a
/// read after a conversion holds the thread for the 1-wire transfer. So `w1_slave` is only ever
/// read on a thread of its own (BackgroundFileReader), never on the agent's loop. Where
/// `therm_bulk_read` is writable (kernel 5.10+, as root and outside the systemd unit's sandbox)
/// `start` triggers the conversion there and the read follows it; elsewhere the read itself
/// converts. The kernel's CRC verdict (`crc=.. YES`) is checked, and 85.000 °C, the power-on value
/// of the temperature register (datasheet, Table "Memory map"), is refused as a conversion that
/// did not run.
///
/// Options: `id` (the device directory name, `28-...`), required.
public final class DS18B20: SensorDriver {
    let devicePath: String
    let bulkTriggerPath: String
    private let reader: BackgroundFileReader
    private var bulkTrigger = true
    /// When the current read of w1_slave was handed to the reader; nil before it is.
    private var readSince: UInt64?
    static let conversionNanoseconds: UInt64 = 750_000_000
    static let pollNanoseconds: UInt64 = 20_000_000
    /// A read that has not returned by then (a stuck bus; w1_therm retries a few times) fails.
    static let timeoutNanoseconds: UInt64 = 5_000_000_000

    public init(options: DriverOptions, sysfsRoot: String = "/sys/bus/w1/devices") throws {
        var options = options
        guard let id = options.string("id") else {
            throw SensorError.option("ds18b20: option 'id' (the 28-... directory under \(sysfsRoot)) is required")
        }
        guard id.hasPrefix("28-"), !id.contains("/") else {
            throw SensorError.option("ds18b20: id '\(id)' is not a DS18B20 id (28-xxxxxxxxxxxx)")
        }
        try options.finish()
        devicePath = "\(sysfsRoot)/\(id)/w1_slave"
        bulkTriggerPath = "\(sysfsRoot)/\(id)/../therm_bulk_read"
        reader = BackgroundFileReader(path: devicePath)
    }

    public var quantities: [Quantity] { [.temperature] }

    public func configure() throws {
        guard access(devicePath, R_OK) == 0 else { throw SensorError.file(path: devicePath, errno: errno) }
        bulkTrigger = access(bulkTriggerPath, W_OK) == 0
    }

    public func start() throws -> UInt64 {
        readSince = nil
        if bulkTrigger {
            let fd = open(bulkTriggerPath, O_WRONLY | O_CLOEXEC)
            if fd >= 0, "trigger\n".withCString({ write(fd, $0, 8) }) == 8 {
                close(fd)
                return DS18B20.conversionNanoseconds // collect reads once the conversion is done
            }
            if fd >= 0 { close(fd) }
            bulkTrigger = false
        }
        try requestRead()
        return DS18B20.conversionNanoseconds
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        guard let since = readSince else {
            try requestRead()
            return DS18B20.pollNanoseconds
        }
        switch reader.take() {
        case .bytes(let bytes)?:
            readSince = nil
            m.add(.temperature, try DS18B20.parse(bytes[...]), decimals: 3)
            return nil
        case .failed(let error)?:
            readSince = nil
            throw SensorError.file(path: devicePath, errno: error)
        case nil:
            guard monotonicNanoseconds() - since < DS18B20.timeoutNanoseconds else {
                throw SensorError.conversionStuck("DS18B20: reading \(devicePath) has not returned in 5 s")
            }
            return DS18B20.pollNanoseconds
        }
    }

    private func requestRead() throws {
        guard reader.request() else {
            throw SensorError.conversionStuck("DS18B20: the previous read of \(devicePath) has not returned")
        }
        readSince = monotonicNanoseconds()
    }

    /// Parses w1_slave: "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 ... t=23125\n".
    static func parse(_ text: ArraySlice<UInt8>) throws(SensorError) -> Double {
        let lines = text.split(separator: UInt8(ascii: "\n"))
        guard lines.count >= 2 else { throw .invalidReading("w1_slave: expected two lines") }
        guard lines[0].count >= 3, Array(lines[0].suffix(3)) == Array("YES".utf8) else {
            throw .checksum(
                what: "DS18B20 scratchpad (the kernel reports crc NO)", received: hexByte(lines[0], at: 24),
                computed: hexByte(lines[0], at: 33))
        }
        guard let t = lines[1].firstRange(of: "t=".utf8), let milli = Int(String(decoding: lines[1][t.upperBound...], as: UTF8.self)) else {
            throw .invalidReading("w1_slave: no t= value")
        }
        guard milli != 85_000 else {
            throw .invalidReading("85.000 °C is the DS18B20's power-on value: the conversion did not run (check power)")
        }
        guard (-55_000...125_000).contains(milli) else { throw .invalidReading("\(milli) m°C is outside the DS18B20's -55...125 °C range") }
        return Double(milli) / 1000
    }

    private static func hexByte(_ line: ArraySlice<UInt8>, at offset: Int) -> UInt8 {
        let start = line.startIndex + offset
        guard line.count > offset + 1 else { return 0 }
        return UInt8(String(decoding: line[start..<(start + 2)], as: UTF8.self), radix: 16) ?? 0
    }
}
