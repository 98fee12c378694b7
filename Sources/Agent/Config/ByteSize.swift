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
            throw DecodingError.invalid(
                at: decoder.codingPath, "'\(text)' is not a size up to 1TB; write e.g. 64MiB, 512KiB or a number of bytes")
        }
        bytes = plain
    }
}
