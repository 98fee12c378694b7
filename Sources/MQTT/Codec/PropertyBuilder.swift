/// Builds a property block (section 2.2.2) in owned bytes, without its Property Length: for
/// CONNECT, for the blocks the agent encodes once and sends with every message, and for tests'
/// brokers. Values are not checked here; the caller passes what the table allows.
public struct PropertyBuilder: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func byte(_ id: UInt8, _ value: UInt8) {
        bytes += [id, value]
    }

    public mutating func uint16(_ id: UInt8, _ value: UInt16) {
        bytes += [id, UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    public mutating func uint32(_ id: UInt8, _ value: UInt32) {
        bytes += [id, UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    public mutating func varInt(_ id: UInt8, _ value: Int) {
        bytes.append(id)
        PropertyBuilder.appendVariableInteger(value, to: &bytes)
    }

    /// A UTF-8 string or binary data, at most 65,535 bytes (the caller checks).
    public mutating func data(_ id: UInt8, _ value: [UInt8]) {
        precondition(value.count <= MQTTLimits.maxStringLength)
        bytes += [id, UInt8(value.count >> 8), UInt8(value.count & 0xFF)]
        bytes += value
    }

    public mutating func string(_ id: UInt8, _ value: String) { data(id, Array(value.utf8)) }

    public mutating func userProperty(_ name: String, _ value: String) {
        bytes.append(PropertyID.userProperty)
        for part in [Array(name.utf8), Array(value.utf8)] {
            bytes += [UInt8(part.count >> 8), UInt8(part.count & 0xFF)]
            bytes += part
        }
    }

    static func appendVariableInteger(_ value: Int, to bytes: inout [UInt8]) {
        var value = value
        repeat {
            var byte = UInt8(value % 128)
            value /= 128
            if value > 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value > 0
    }
}
