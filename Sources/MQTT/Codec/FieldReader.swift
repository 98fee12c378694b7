/// Reads the fields of one packet body, checking every length against what is left.
struct FieldReader {
    let bytes: UnsafeRawBufferPointer
    let type: PacketType
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, type: PacketType) {
        self.bytes = bytes
        self.type = type
    }

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func byte(_ field: String) throws(PacketError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(type, field: field) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16(_ field: String) throws(PacketError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(type, field: field) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func uint32(_ field: String) throws(PacketError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(type, field: field) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// A Variable Byte Integer (5.0 section 1.5.5): at most four bytes, so at most 268,435,455.
    mutating func variableInteger(_ field: String) throws(PacketError) -> Int {
        var value = 0
        var shift = 0
        while true {
            let byte = try self.byte(field)
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift < 28 else { throw .malformedVariableInteger(type, field: field) }
        }
    }

    /// A two-byte length and that many bytes (section 1.5.3), checked as UTF-8 unless `utf8` is false.
    mutating func lengthPrefixed(_ field: String, utf8: Bool = true) throws(PacketError) -> UnsafeRawBufferPointer {
        let length = Int(try uint16(field + " length"))
        guard remaining >= length else { throw .truncated(type, field: field) }
        let view = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        offset += length
        if utf8 && !MQTTUTF8.isValid(view) { throw .invalidUTF8(field: field) }
        return view
    }

    mutating func string(_ field: String) throws(PacketError) -> String {
        String(decoding: try lengthPrefixed(field), as: UTF8.self)
    }

    mutating func rest() -> UnsafeRawBufferPointer {
        defer { offset = bytes.count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset...])
    }
}
