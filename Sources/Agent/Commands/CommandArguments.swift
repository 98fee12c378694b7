/// A request's fields with typed accessors. Every number is checked against its range while it
/// is still a Double, before any conversion to an integer type (which would trap outside it).
struct CommandArguments {
    let command: String
    let fields: [String: JSONValue]

    /// Refuses fields the command does not take (`id` is every command's).
    func allowOnly(_ names: Set<String>) throws(CommandFailure) {
        for key in fields.keys.sorted() where key != "id" && !names.contains(key) {
            throw CommandFailure(
                "unknown field '\(key)' for \(command)\(names.isEmpty ? " (it takes none)" : "; it takes \(names.sorted().joined(separator: ", "))")"
            )
        }
    }

    func string(_ key: String) throws(CommandFailure) -> String {
        guard let value = fields[key] else { throw CommandFailure("\(command) needs '\(key)'") }
        guard case .string(let s) = value else { throw CommandFailure("'\(key)' must be a string, not \(value.typeName)") }
        return s
    }

    /// A number in `range`, as a whole number of milliseconds or similar: `range` bounds it first.
    func integer(_ key: String, in range: ClosedRange<Int>) throws(CommandFailure) -> Int {
        guard let value = fields[key] else { throw CommandFailure("\(command) needs '\(key)'") }
        guard case .number(let n) = value else { throw CommandFailure("'\(key)' must be a number, not \(value.typeName)") }
        guard n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw CommandFailure("\(key) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        guard n == n.rounded() else { throw CommandFailure("\(key) must be a whole number") }
        return Int(n)
    }

    /// `true`, `false`, `0` or `1`.
    func bool(_ key: String) throws(CommandFailure) -> Bool {
        switch fields[key] {
        case .bool(let b)?: return b
        case .number(let n)? where n == 0 || n == 1: return n == 1
        case let other?:
            throw CommandFailure(
                "'\(key)' must be true, false, 0 or 1, not \(other.typeName == "a number" ? "that number" : other.typeName)")
        case nil: throw CommandFailure("\(command) needs '\(key)'")
        }
    }

    /// A duration string (`"500ms"`) or a number of seconds, within `range`.
    func duration(_ key: String, in range: ClosedRange<UInt64>) throws(CommandFailure) -> ConfigDuration {
        let outside = CommandFailure(
            "\(key) must be between \(ConfigDuration(nanoseconds: range.lowerBound)) and \(ConfigDuration(nanoseconds: range.upperBound))")
        let duration: ConfigDuration
        switch fields[key] {
        case .string(let text)?:
            guard let parsed = ConfigDuration.parse(text) else {
                throw CommandFailure("'\(text)' is not a duration; write e.g. 500ms, 10s, 5m (\(outside.message))")
            }
            duration = parsed
        case .number(let seconds)?:
            guard let parsed = ConfigDuration(seconds: seconds) else { throw outside }
            duration = parsed
        case let other?:
            throw CommandFailure("'\(key)' must be a duration string or seconds, not \(other.typeName)")
        case nil:
            throw CommandFailure("\(command) needs '\(key)'")
        }
        guard range.contains(duration.nanoseconds) else { throw outside }
        return duration
    }
}
