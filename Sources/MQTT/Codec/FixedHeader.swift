/// The fixed header of a control packet (section 2.2).
public struct FixedHeader: Equatable, Sendable {
    public var type: PacketType
    public var flags: UInt8
    public var remainingLength: Int
    /// Bytes taken by the type byte and the remaining-length field.
    public var headerLength: Int
    public var packetLength: Int { headerLength + remainingLength }
}
