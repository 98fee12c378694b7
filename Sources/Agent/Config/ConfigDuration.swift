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
            throw DecodingError.invalid(
                at: decoder.codingPath, "'\(text)' is not a duration of at most 365d; write e.g. 500ms, 10s, 5m or 1h")
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
