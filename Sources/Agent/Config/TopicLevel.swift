/// Names that become one level of a topic: the device id, sensor and GPIO line names.
public enum TopicLevel {
    /// Long enough for any real name, short enough for the spool record's 7-bit name length.
    public static let maxBytes = 64

    /// Why `name` cannot be a topic level, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.utf8.count > maxBytes { return "is \(name.utf8.count) bytes; at most \(maxBytes)" }
        if name.hasPrefix("$") { return "must not start with '$' (brokers keep such topics for themselves)" }
        for b in name.utf8 where b == UInt8(ascii: "/") || b == UInt8(ascii: "+") || b == UInt8(ascii: "#") || b < 0x20 || b == 0x7F {
            return "becomes a topic level: no '/', '+', '#' or control characters"
        }
        return nil
    }

    /// Why `prefix` cannot start every topic (several levels allowed), or nil.
    public static func prefixProblem(_ prefix: String) -> String? {
        if prefix.isEmpty { return "must not be empty" }
        if prefix.utf8.count > 128 { return "is \(prefix.utf8.count) bytes; at most 128" }
        if prefix.hasPrefix("$") { return "must not start with '$' (brokers keep such topics for themselves)" }
        for level in prefix.split(separator: "/", omittingEmptySubsequences: false) {
            if level.isEmpty { return "has an empty level (a leading, trailing or doubled '/')" }
            if level.utf8.contains(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") || $0 < 0x20 || $0 == 0x7F }) {
                return "no '+', '#' or control characters"
            }
        }
        return nil
    }
}
