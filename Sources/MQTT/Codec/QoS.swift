public enum QoS: UInt8, Sendable, Comparable, CustomStringConvertible {
    case atMostOnce = 0, atLeastOnce = 1, exactlyOnce = 2
    public static func < (a: QoS, b: QoS) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "QoS \(rawValue)" }
}
