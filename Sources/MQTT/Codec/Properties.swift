/// The identifiers of MQTT 5.0 properties (section 2.2.2.2, table 2-4).
public enum PropertyID {
    public static let payloadFormatIndicator: UInt8 = 0x01
    public static let messageExpiryInterval: UInt8 = 0x02
    public static let contentType: UInt8 = 0x03
    public static let responseTopic: UInt8 = 0x08
    public static let correlationData: UInt8 = 0x09
    public static let subscriptionIdentifier: UInt8 = 0x0B
    public static let sessionExpiryInterval: UInt8 = 0x11
    public static let assignedClientIdentifier: UInt8 = 0x12
    public static let serverKeepAlive: UInt8 = 0x13
    public static let authenticationMethod: UInt8 = 0x15
    public static let authenticationData: UInt8 = 0x16
    public static let requestProblemInformation: UInt8 = 0x17
    public static let willDelayInterval: UInt8 = 0x18
    public static let requestResponseInformation: UInt8 = 0x19
    public static let responseInformation: UInt8 = 0x1A
    public static let serverReference: UInt8 = 0x1C
    public static let reasonString: UInt8 = 0x1F
    public static let receiveMaximum: UInt8 = 0x21
    public static let topicAliasMaximum: UInt8 = 0x22
    public static let topicAlias: UInt8 = 0x23
    public static let maximumQoS: UInt8 = 0x24
    public static let retainAvailable: UInt8 = 0x25
    public static let userProperty: UInt8 = 0x26
    public static let maximumPacketSize: UInt8 = 0x27
    public static let wildcardSubscriptionAvailable: UInt8 = 0x28
    public static let subscriptionIdentifierAvailable: UInt8 = 0x29
    public static let sharedSubscriptionAvailable: UInt8 = 0x2A

    enum Kind { case byte, uint16, uint32, varInt, utf8, binary, pair }

    static func kind(_ id: UInt8) -> Kind? {
        switch id {
        case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A: .byte
        case 0x13, 0x21, 0x22, 0x23: .uint16
        case 0x02, 0x11, 0x18, 0x27: .uint32
        case 0x0B: .varInt
        case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F: .utf8
        case 0x09, 0x16: .binary
        case 0x26: .pair
        default: nil
        }
    }
}

/// Where a property block stands: each packet allows its own properties (table 2-4), and a will's
/// properties are a block of their own inside CONNECT.
public enum PropertyContext: Sendable {
    case connect, connack, publish, will, acknowledgement, subscribe, suback, unsubscribe, unsuback, disconnect, auth

    /// One bit per identifier allowed (every identifier is below 64).
    var allowed: UInt64 {
        func bits(_ ids: UInt8...) -> UInt64 { ids.reduce(0) { $0 | 1 << UInt64($1) } }
        let reasonAndUser = bits(0x1F, 0x26)
        switch self {
        case .connect: return bits(0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27)
        case .connack:
            return bits(0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A)
        case .publish: return bits(0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26)
        case .will: return bits(0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26)
        case .acknowledgement, .suback, .unsuback: return reasonAndUser
        case .subscribe: return bits(0x0B, 0x26)
        case .unsubscribe: return bits(0x26)
        case .disconnect: return reasonAndUser | bits(0x11, 0x1C)
        case .auth: return reasonAndUser | bits(0x15, 0x16)
        }
    }
}

/// A property block as a view into the packet (valid while the packet's bytes are), checked once
/// when decoded: every identifier known and allowed where it stands, every length inside the
/// block, no property repeated that may appear once, and values in their ranges. Reading one
/// scans the block again, without allocating.
public struct Properties {
    /// The properties, without the Property Length in front of them.
    public let bytes: UnsafeRawBufferPointer

    public static var none: Properties { Properties(unchecked: UnsafeRawBufferPointer(start: nil, count: 0)) }

    init(unchecked bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// A block from elsewhere (a test, a fuzz input), checked as the decoder checks one in `context`.
    public init(_ bytes: UnsafeRawBufferPointer, checkedAs context: PropertyContext) throws(PacketError) {
        try Properties.check(bytes, context, in: .publish)
        self.bytes = bytes
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Reads a Property Length and the block it covers from `reader`, and checks the block.
    static func read(_ reader: inout FieldReader, _ context: PropertyContext) throws(PacketError) -> Properties {
        let length = try reader.variableInteger("property length")
        guard length <= reader.remaining else { throw .truncated(reader.type, field: "properties") }
        let block = UnsafeRawBufferPointer(rebasing: reader.bytes[reader.offset..<reader.offset + length])
        reader.offset += length
        try check(block, context, in: reader.type)
        return Properties(unchecked: block)
    }

    static func check(_ block: UnsafeRawBufferPointer, _ context: PropertyContext, in type: PacketType) throws(PacketError) {
        var reader = FieldReader(bytes: block, type: type)
        var seen: UInt64 = 0
        let allowed = context.allowed
        while !reader.isAtEnd {
            let id = try reader.byte("property identifier")
            guard let kind = PropertyID.kind(id) else { throw .invalidProperty(type, id: id, "unknown identifier") }
            let bit: UInt64 = 1 << UInt64(id)
            guard allowed & bit != 0 else { throw .invalidProperty(type, id: id, "not allowed in this packet") }
            let repeatable = id == PropertyID.userProperty || (id == PropertyID.subscriptionIdentifier && context == .publish)
            guard repeatable || seen & bit == 0 else { throw .invalidProperty(type, id: id, "included more than once") }
            seen |= bit
            switch kind {
            case .byte:
                let value = try reader.byte("property 0x\(String(id, radix: 16))")
                guard value <= 1 else { throw .invalidProperty(type, id: id, "value \(value) is neither 0 nor 1") }
            case .uint16:
                let value = try reader.uint16("property 0x\(String(id, radix: 16))")
                if value == 0 && id != PropertyID.serverKeepAlive && id != PropertyID.topicAliasMaximum {
                    throw .invalidProperty(type, id: id, "value 0 is not allowed")
                }
            case .uint32:
                let value = try reader.uint32("property 0x\(String(id, radix: 16))")
                if value == 0 && id == PropertyID.maximumPacketSize { throw .invalidProperty(type, id: id, "value 0 is not allowed") }
            case .varInt:
                let value = try reader.variableInteger("subscription identifier")
                if value == 0 { throw .invalidProperty(type, id: id, "value 0 is not allowed") }
            case .utf8:
                _ = try reader.lengthPrefixed("property 0x\(String(id, radix: 16))")
            case .binary:
                _ = try reader.lengthPrefixed("property 0x\(String(id, radix: 16))", utf8: false)
            case .pair:
                _ = try reader.lengthPrefixed("user property name")
                _ = try reader.lengthPrefixed("user property value")
            }
        }
    }

    /// Visits every property: its identifier and its value's bytes (for a string or binary data,
    /// without the length; for a user property, the name and value with their lengths).
    public func forEach(_ body: (UInt8, UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < bytes.count {
            let id = bytes[offset]
            offset += 1
            var start = offset
            switch PropertyID.kind(id) {
            case .byte: offset += 1
            case .uint16: offset += 2
            case .uint32: offset += 4
            case .varInt: while offset < bytes.count, bytes[offset] & 0x80 != 0 { offset += 1 }; offset += 1
            case .utf8, .binary:
                start = offset + 2
                offset = start + (Int(bytes[offset]) << 8 | Int(bytes[offset + 1]))
            case .pair:
                let name = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                let value = Int(bytes[offset + 2 + name]) << 8 | Int(bytes[offset + 3 + name])
                offset += 4 + name + value
            case nil: return // not reached: the block was checked
            }
            body(id, UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
        }
    }

    /// The value bytes of the first property `id`, if present.
    public func value(_ id: UInt8) -> UnsafeRawBufferPointer? {
        var found: UnsafeRawBufferPointer?
        forEach { key, value in if key == id && found == nil { found = value } }
        return found
    }

    public func byte(_ id: UInt8) -> UInt8? { value(id).map { $0[0] } }
    public func uint16(_ id: UInt8) -> UInt16? { value(id).map { UInt16($0[0]) << 8 | UInt16($0[1]) } }
    public func uint32(_ id: UInt8) -> UInt32? {
        value(id).map { UInt32($0[0]) << 24 | UInt32($0[1]) << 16 | UInt32($0[2]) << 8 | UInt32($0[3]) }
    }
    public func string(_ id: UInt8) -> String? { value(id).map { String(decoding: $0, as: UTF8.self) } }

    /// User properties as name and value (allocates: for replies and tests, not the hot path).
    public var userProperties: [(name: String, value: String)] {
        var pairs: [(String, String)] = []
        forEach { id, pair in
            guard id == PropertyID.userProperty else { return }
            let nameLength = Int(pair[0]) << 8 | Int(pair[1])
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: pair[2..<2 + nameLength]), as: UTF8.self)
            let value = String(decoding: UnsafeRawBufferPointer(rebasing: pair[(4 + nameLength)...]), as: UTF8.self)
            pairs.append((name, value))
        }
        return pairs
    }
}
