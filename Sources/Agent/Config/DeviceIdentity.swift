#if canImport(Glibc)
import Glibc
#endif

/// `device_id: auto` and `{serial}` inside a configured id: the board's own serial number, so one
/// SD-card image serves many boards and a cloned card does not make two boards one device.
public enum DeviceIdentity {
    public static let auto = "auto"
    public static let placeholder = "{serial}"

    /// Where a serial is looked for, first usable one wins: a Raspberry Pi's (and most device-tree
    /// boards') serial number, the firmware's serial on a PC (readable by root only, so a sandboxed
    /// agent skips it), and systemd's machine id, which every Debian system has. A board file's
    /// `serial_files:` replaces the list.
    public static let defaultSources = [
        "/proc/device-tree/serial-number", "/sys/firmware/devicetree/base/serial-number",
        "/sys/class/dmi/id/product_serial", "/etc/machine-id",
    ]

    /// Whether `id` is made from the board's serial.
    public static func needsSerial(_ id: String) -> Bool { id == auto || id.contains(placeholder) }

    /// The serial from the first of `sources` that holds a usable one, with the file it came from;
    /// nil (with every file's reason) when none does.
    public static func serial(
        sources: [String], read: (String) -> String? = { readPrefix(of: $0, bytes: 256) }
    ) -> Result<(serial: String, source: String), SerialNotFound> {
        var reasons: [String] = []
        for path in sources {
            guard let text = read(path) else {
                reasons.append("\(path): \(String(cString: strerror(errno)))")
                continue
            }
            switch clean(text) {
            case .success(let serial): return .success((serial, path))
            case .failure(let why): reasons.append("\(path): \(why)")
            }
        }
        return .failure(SerialNotFound(reasons: reasons))
    }

    /// The id `configured` names, with the board's serial in place of `auto` or `{serial}`.
    public static func resolve(_ configured: String, serial: String) -> String {
        configured == auto ? serial : configured.replacing(placeholder, with: serial)
    }

    /// A serial as the file holds it, trimmed of the NUL a device-tree string ends with and of
    /// white space; refused when it cannot be one level of a topic or is a firmware placeholder
    /// (many PCs and some boards ship "To Be Filled By O.E.M.", "Default string" or zeros, which
    /// every board of that model would share).
    static func clean(_ text: String) -> Result<String, SerialProblem> {
        let trimmed = text.utf8.drop { isBlank($0) }.reversed().drop { isBlank($0) }.reversed()
        let serial = String(decoding: trimmed, as: UTF8.self)
        guard serial.utf8.count >= 4 else { return .failure(SerialProblem("empty or shorter than 4 characters")) }
        guard serial.utf8.count <= 48 else { return .failure(SerialProblem("longer than 48 characters")) }
        let distinct = Set(serial.utf8.filter { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: ".") })
        if distinct.count <= 1 { return .failure(SerialProblem("a placeholder (\(serial.debugDescription)), the same on every board")) }
        let lower = serial.lowercased()
        for word in ["default", "filled", "serial", "none", "unknown", "empty", "not-specified", "0123456789"] where lower.contains(word) {
            return .failure(SerialProblem("a placeholder (\(serial.debugDescription)), the same on every board"))
        }
        guard serial.utf8.allSatisfy({ isSerialByte($0) }) else {
            return .failure(SerialProblem("holds characters other than letters, digits, '.', '-' and '_'"))
        }
        return .success(serial)
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == 0 || b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func isSerialByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }

    /// At most `bytes` from the start of a file (sysfs and procfs files, which may be of any size
    /// when a path is not what it should be), or nil with errno set.
    public static func readPrefix(of path: String, bytes: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: bytes)
        var filled = 0
        while filled < bytes {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, bytes - filled) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            filled += n
        }
        return String(decoding: buffer[..<filled], as: UTF8.self)
    }
}

public struct SerialProblem: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// No source held a usable serial: each one's reason, for the error a person reads.
public struct SerialNotFound: Error, CustomStringConvertible {
    public var reasons: [String]
    public var description: String { "no board serial found (\(reasons.joined(separator: "; ")))" }
}
