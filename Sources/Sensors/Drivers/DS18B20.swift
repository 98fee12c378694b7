#if canImport(Glibc)
import Glibc
#endif

/// Maxim DS18B20 through the kernel's 1-wire interface (w1-gpio + w1_therm, `dtoverlay=w1-gpio`).
///
/// Reading `w1_slave` makes the kernel convert (750 ms at 12 bits) and blocks meanwhile, which
/// would stall the agent's loop; so `start` writes `trigger` to the bus master's
/// `therm_bulk_read` (kernel 5.10+), and `collect` reads `w1_slave` after the conversion time,
/// when the kernel returns the converted scratchpad without waiting again. The kernel's CRC
/// verdict (`crc=.. YES`) is checked, and 85.000 °C, the power-on value of the temperature
/// register (datasheet, Table "Memory map"), is refused as a conversion that did not run.
///
/// Options: `id` (the device directory name, `28-...`), required.
public final class DS18B20: SensorDriver {
    let devicePath: String
    let bulkTriggerPath: String
    private var buffer = [UInt8](repeating: 0, count: 128)
    private var bulkTrigger = true

    public init(options: DriverOptions, sysfsRoot: String = "/sys/bus/w1/devices") throws {
        var options = options
        guard let id = options.string("id") else { throw SensorError.option("ds18b20: option 'id' (the 28-... directory under \(sysfsRoot)) is required") }
        guard id.hasPrefix("28-"), !id.contains("/") else { throw SensorError.option("ds18b20: id '\(id)' is not a DS18B20 id (28-xxxxxxxxxxxx)") }
        try options.finish()
        devicePath = "\(sysfsRoot)/\(id)/w1_slave"
        bulkTriggerPath = "\(sysfsRoot)/\(id)/../therm_bulk_read"
    }

    public func configure() throws {
        guard access(devicePath, R_OK) == 0 else { throw SensorError.file(path: devicePath, errno: errno) }
        bulkTrigger = access(bulkTriggerPath, W_OK) == 0
    }

    public func start() throws -> UInt64 {
        guard bulkTrigger else { return 0 }
        let fd = open(bulkTriggerPath, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { bulkTrigger = false; return 0 }
        defer { close(fd) }
        let ok = "trigger\n".withCString { write(fd, $0, 8) } == 8
        return ok ? 750_000_000 : 0
    }

    public func collect(into m: inout Measurement) throws -> UInt64? {
        let fd = open(devicePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SensorError.file(path: devicePath, errno: errno) }
        defer { close(fd) }
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw SensorError.file(path: devicePath, errno: count < 0 ? errno : EIO) }
        m.add("temperature_c", try DS18B20.parse(buffer[0..<count]), decimals: 3)
        return nil
    }

    /// Parses w1_slave: "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 ... t=23125\n".
    static func parse(_ text: ArraySlice<UInt8>) throws(SensorError) -> Double {
        let lines = text.split(separator: UInt8(ascii: "\n"))
        guard lines.count >= 2 else { throw .invalidReading("w1_slave: expected two lines") }
        guard lines[0].count >= 3, Array(lines[0].suffix(3)) == Array("YES".utf8) else {
            throw .checksum(what: "DS18B20 scratchpad (the kernel reports crc NO)", received: hexByte(lines[0], at: 24), computed: hexByte(lines[0], at: 33))
        }
        guard let t = lines[1].firstRange(of: "t=".utf8), let milli = Int(String(decoding: lines[1][t.upperBound...], as: UTF8.self)) else {
            throw .invalidReading("w1_slave: no t= value")
        }
        guard milli != 85_000 else { throw .invalidReading("85.000 °C is the DS18B20's power-on value: the conversion did not run (check power)") }
        guard (-55_000...125_000).contains(milli) else { throw .invalidReading("\(milli) m°C is outside the DS18B20's -55...125 °C range") }
        return Double(milli) / 1000
    }

    private static func hexByte(_ line: ArraySlice<UInt8>, at offset: Int) -> UInt8 {
        let start = line.startIndex + offset
        guard line.count > offset + 1 else { return 0 }
        return UInt8(String(decoding: line[start..<(start + 2)], as: UTF8.self), radix: 16) ?? 0
    }
}
