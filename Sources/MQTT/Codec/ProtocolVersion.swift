/// The protocol level CONNECT carries (3.1.1 section 3.1.2.2, 5.0 section 3.1.2.2). It decides how
/// every packet of the connection is laid out: 5.0 adds reason codes and properties.
public enum ProtocolVersion: UInt8, Sendable, CustomStringConvertible {
    case v311 = 4
    case v5 = 5

    public var description: String { self == .v5 ? "5.0" : "3.1.1" }
}
