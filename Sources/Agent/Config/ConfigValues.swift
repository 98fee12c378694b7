/// A duration written as `250ms`, `10s`, `5m`, `2h`, or a plain number of seconds.
public struct ConfigDuration: Decodable, Equatable, Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64

    /// The longest duration anything accepts (a year): beyond it a number is a typo, and every
    /// sum of a duration and a monotonic time stays far from overflow.
    public static let maximum = ConfigDuration(nanoseconds: 365 * 86_400 * 1_000_000_000)

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// A whole number of seconds written in the code (defaults).
    public static func seconds(_ n: UInt64) -> ConfigDuration { ConfigDuration(nanoseconds: n * 1_000_000_000) }

    /// Seconds from outside (a command's number) or a literal: nil unless finite, not negative and
    /// at most `maximum`, checked before any conversion.
    public init?(seconds: Double) {
        let ns = seconds * 1e9
        guard ns.isFinite, ns >= 0, ns <= Double(ConfigDuration.maximum.nanoseconds) else { return nil }
        nanoseconds = UInt64(ns)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self).trimmingSpaces()
        guard let value = ConfigDuration.parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not a duration of at most 365d; write e.g. 500ms, 10s, 5m or 1h"))
        }
        self = value
    }

    /// `250ms`, `10s`, `1.5h` or plain seconds; nil for anything else, including numbers that are
    /// not finite, negative or over `maximum` (checked before the conversion, which would trap).
    static func parse(_ text: String) -> ConfigDuration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var number = Substring(text)
        var scale: Double = 1
        for (suffix, unit) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = unit
            break
        }
        // Only digits, one point and an exponent: Double() would also take "inf", "nan" and hex.
        guard !number.isEmpty,
            number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }),
            let value = Double(number)
        else { return nil }
        return ConfigDuration(seconds: value * scale)
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var description: String { nanoseconds % 1_000_000_000 == 0 ? "\(nanoseconds / 1_000_000_000)s" : "\(nanoseconds / 1_000_000)ms" }
}

/// A size written as `64MiB`, `512KiB`, `1GiB`, `10MB`, or a plain number of bytes.
public struct ByteSize: Decodable, Equatable, Sendable {
    public let bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self).trimmingSpaces()
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            // Checked before the conversion: Int(1e300) would trap. A terabyte is past any spool.
            guard let number = Double(String(text.dropLast(suffix.count)).trimmingSpaces()), number.isFinite, number >= 0,
                number * Double(scale) <= 1e12
            else { break }
            bytes = Int(number * Double(scale))
            return
        }
        guard let plain = Int(text), plain >= 0, plain <= 1_000_000_000_000 else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not a size up to 1TB; write e.g. 64MiB, 512KiB or a number of bytes"))
        }
        bytes = plain
    }
}

/// An I2C address written as `0x76` or `118`.
public struct I2CAddress: Decodable, Equatable, Sendable, CustomStringConvertible {
    public let value: UInt8

    public init(_ value: UInt8) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self).trimmingSpaces()
        let parsed = text.lowercased().hasPrefix("0x") ? UInt8(text.dropFirst(2), radix: 16) : UInt8(text)
        guard let parsed, parsed >= 0x03, parsed <= 0x77 else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not a 7-bit I2C device address (0x03 to 0x77)"))
        }
        value = parsed
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Names that become one level of a topic: the device id, sensor and GPIO line names.
public enum TopicLevel {
    /// Long enough for any real name, short enough for the spool record's 7-bit name length.
    public static let maxBytes = 64

    /// Why `name` cannot be a topic level, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > maxBytes { return "is \(name.utf8.count) bytes; at most \(maxBytes)" }
        if name.hasPrefix("$") { return "must not start with '$' (brokers keep such topics for themselves)" }
        for b in name.utf8 where b == UInt8(ascii: "/") || b == UInt8(ascii: "+") || b == UInt8(ascii: "#") || b < 0x20 || b == 0x7F {
            return "becomes a topic level: no '/', '+', '#' or control characters"
        }
        return nil
    }

    /// Why `prefix` cannot start every topic (several levels allowed), or nil.
    public static func prefixProblem(_ prefix: String) -> String? {
        if prefix.isEmpty { return "must not be empty" }
        if prefix.utf8.count > 128 { return "is \(prefix.utf8.count) bytes; at most 128" }
        if prefix.hasPrefix("$") { return "must not start with '$' (brokers keep such topics for themselves)" }
        for level in prefix.split(separator: "/", omittingEmptySubsequences: false) {
            if level.isEmpty { return "has an empty level (a leading, trailing or doubled '/')" }
            if level.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 < 0x20 || $0 == 0x7F }) {
                return "no '+', '#' or control characters"
            }
        }
        return nil
    }
}
