/// Topic names and filters, section 4.7.
public enum Topic {
    /// A topic name as PUBLISH carries it: at least one byte (MQTT-4.7.3-1), no wildcards
    /// (MQTT-3.3.2-2), UTF-8 rules of section 1.5.3, at most 65535 bytes.
    public static func validateName(_ bytes: UnsafeRawBufferPointer) -> PacketError? {
        if bytes.isEmpty { return .invalidTopicName("empty (MQTT-4.7.3-1)") }
        if bytes.count > MQTTLimits.maxStringLength { return .stringTooLong(field: "topic name", length: bytes.count) }
        if isPlainASCIIName(bytes) { return nil }
        for b in bytes where b == UInt8(ascii: "+") || b == UInt8(ascii: "#") {
            return .invalidTopicName("contains a wildcard character (MQTT-3.3.2-2)")
        }
        if !MQTTUTF8.isValid(bytes) { return .invalidUTF8(field: "topic name") }
        return nil
    }

    /// Eight bytes at a time: true when every byte is ASCII and none is NUL, '+' or '#', which is
    /// every topic the agent builds, accepted without the byte-by-byte rules (run on every publish,
    /// they were a tenth of its instructions). False sends the name to those rules.
    static func isPlainASCIIName(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }
        var i = 0
        while i + 8 <= bytes.count {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if w & highs != 0 || hasZeroByte(w) || hasZeroByte(w ^ (ones &* 0x2B)) || hasZeroByte(w ^ (ones &* 0x23)) { return false }
            i += 8
        }
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x80 || b == 0 || b == UInt8(ascii: "+") || b == UInt8(ascii: "#") { return false }
            i += 1
        }
        return true
    }

    public static func validateName(_ name: String) -> PacketError? {
        var name = name
        return name.withUTF8 { validateName(UnsafeRawBufferPointer($0)) }
    }

    /// A topic filter as SUBSCRIBE carries it: '#' only as the last level (MQTT-4.7.1-2), '+' only
    /// as a whole level (MQTT-4.7.1-3), non-empty, UTF-8 rules.
    public static func validateFilter(_ filter: String) -> PacketError? {
        if filter.isEmpty { return .invalidTopicFilter("empty (MQTT-4.7.3-1)") }
        if filter.utf8.count > MQTTLimits.maxStringLength {
            return .stringTooLong(field: "topic filter", length: filter.utf8.count)
        }
        if !MQTTUTF8.isValid(filter) { return .invalidUTF8(field: "topic filter") }
        let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        for (index, level) in levels.enumerated() {
            if level.contains(UInt8(ascii: "#")) {
                if level.count != 1 || index != levels.count - 1 {
                    return .invalidTopicFilter("'#' must be the whole last level (MQTT-4.7.1-2): \(filter)")
                }
            }
            if level.contains(UInt8(ascii: "+")) && level.count != 1 {
                return .invalidTopicFilter("'+' must be a whole level (MQTT-4.7.1-3): \(filter)")
            }
        }
        return nil
    }

    /// Whether a topic name matches a filter (section 4.7). Topics starting with '$' are not
    /// matched by filters starting with a wildcard (MQTT-4.7.2-1).
    public static func matches(filter: String, topic: String) -> Bool {
        let f = filter.split(separator: "/", omittingEmptySubsequences: false)
        let t = topic.split(separator: "/", omittingEmptySubsequences: false)
        if topic.hasPrefix("$"), let first = f.first, first == "#" || first == "+" { return false }
        var i = 0
        while i < f.count {
            if f[i] == "#" { return true }
            guard i < t.count else { return false }
            if f[i] != "+" && f[i] != t[i] { return false }
            i += 1
        }
        return i == t.count
    }
}
