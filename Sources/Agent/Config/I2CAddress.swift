/// An I2C address written as `0x76` or `118`.
public struct I2CAddress: Decodable, Equatable, Sendable, CustomStringConvertible {
    public let value: UInt8

    public init(_ value: UInt8) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self).trimmingSpaces()
        let parsed = text.lowercased().hasPrefix("0x") ? UInt8(text.dropFirst(2), radix: 16) : UInt8(text)
        guard let parsed, parsed >= 0x03, parsed <= 0x77 else {
            throw DecodingError.invalid(at: decoder.codingPath, "'\(text)' is not a 7-bit I2C device address (0x03 to 0x77)")
        }
        value = parsed
    }

    public var description: String {
        let hex = String(value, radix: 16)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
