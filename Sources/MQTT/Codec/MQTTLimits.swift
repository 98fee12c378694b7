public enum MQTTLimits {
    /// MQTT 3.1.1 section 2.2.3: four bytes of remaining length encode at most 268,435,455.
    public static let maxRemainingLength = 268_435_455
    /// Two-byte length prefix of UTF-8 strings and binary fields (section 1.5.3).
    public static let maxStringLength = 65_535

    /// Bytes used by the remaining-length field for a given length.
    public static func remainingLengthSize(_ length: Int) -> Int {
        switch length {
        case ..<128: return 1
        case ..<16_384: return 2
        case ..<2_097_152: return 3
        default: return 4
        }
    }
}
