/// Where each key of a decoded file is: checks made after decoding report `file:line: key:` too.
struct ConfigLines {
    let root: YAMLNode?
    let file: String

    /// The line of a dotted key path (`sensors.2.name`), or of the nearest enclosing key found.
    func line(_ key: String) -> Int {
        guard var current = root else { return 0 }
        for part in key.split(separator: ".") {
            switch current.kind {
            case .mapping(let entries):
                guard let next = entries.first(where: { $0.key == part })?.value else { return current.line }
                current = next
            case .sequence(let items):
                guard let i = Int(part), i >= 0, i < items.count else { return current.line }
                current = items[i]
            case .scalar:
                return current.line
            }
        }
        return current.line
    }

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: line(key), key: key, message: message)
    }
}
