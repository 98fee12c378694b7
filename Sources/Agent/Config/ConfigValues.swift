/// A duration written as `250ms`, `10s`, `5m`, `2h`, or a plain number of seconds.
public struct ConfigDuration: Decodable, Equatable, Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public init(seconds: Double) { nanoseconds = UInt64(seconds * 1e9) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self).trimmingSpaces()
        guard let value = ConfigDuration.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not a duration; write e.g. 500ms, 10s, 5m or 1h"))
        }
        self = value
    }

    static func parse(_ text: String) -> ConfigDuration? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86_400e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return ConfigDuration(nanoseconds: UInt64(number * scale))
        }
        guard let seconds = Double(text), seconds >= 0 else { return nil }
        return ConfigDuration(seconds: seconds)
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
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(String(text.dropLast(suffix.count)).trimmingSpaces()), number >= 0 else { break }
            bytes = Int(number * Double(scale))
            return
        }
        guard let plain = Int(text), plain >= 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not a size; write e.g. 64MiB, 512KiB or a number of bytes"))
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
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
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
