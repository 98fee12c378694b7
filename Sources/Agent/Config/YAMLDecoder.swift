/// Decodes `Decodable` types from a YAML tree, strictly: wrong types, bad values and unknown keys
/// are errors with the line they are on.
public enum YAMLDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from text: String, file: String) throws(ConfigError) -> T {
        try decodeWithLines(type, from: text, file: file).value
    }

    /// Also returns where each key is, for checks made after decoding.
    static func decodeWithLines<T: Decodable>(_ type: T.Type, from text: String, file: String) throws(ConfigError) -> (
        value: T, lines: ConfigLines
    ) {
        try decodeWithLines(type, root: parse(text, file: file), file: file)
    }

    /// The tree of `text`, or its syntax error.
    static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLNode {
        do { return try YAMLParser.parse(text) } catch let error as YAMLError {
            throw ConfigError(file: file, line: error.line, key: "", message: error.message)
        } catch { throw ConfigError(file: file, line: 0, key: "", message: "\(error)") }
    }

    /// Decodes a tree already parsed (a pushed configuration with the board's own keys put in).
    static func decodeWithLines<T: Decodable>(_ type: T.Type, root: YAMLNode, file: String) throws(ConfigError) -> (
        value: T, lines: ConfigLines
    ) {
        let value: T
        do { value = try T(from: NodeDecoder(node: root, path: [], file: file)) } catch let error as ConfigError { throw error } catch let
            error as DecodingError
        { throw translate(error, root: root, file: file) } catch {
            throw ConfigError(file: file, line: root.line, key: "", message: "\(error)")
        }
        if let unknown = firstUnknownKey(root, path: []) {
            throw ConfigError(file: file, line: unknown.line, key: unknown.path, message: "unknown key")
        }
        return (value, ConfigLines(root: root, file: file))
    }

    private static func firstUnknownKey(_ node: YAMLNode, path: [String]) -> (line: Int, path: String)? {
        switch node.kind {
        case .mapping(let entries):
            for (key, value) in entries {
                if !node.usedKeys.contains(key) { return (value.line, (path + [key]).joined(separator: ".")) }
                if let found = firstUnknownKey(value, path: path + [key]) { return found }
            }
        case .sequence(let items):
            for (i, item) in items.enumerated() {
                if let found = firstUnknownKey(item, path: path + ["\(i)"]) { return found }
            }
        case .scalar:
            break
        }
        return nil
    }

    private static func translate(_ error: DecodingError, root: YAMLNode, file: String) -> ConfigError {
        switch error {
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return ConfigError(
                file: file, line: node(at: context.codingPath, in: root)?.line ?? root.line, key: path, message: "required key is missing")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return ConfigError(
                file: file, line: node(at: context.codingPath, in: root)?.line ?? root.line, key: path, message: context.debugDescription)
        @unknown default:
            return ConfigError(file: file, line: root.line, key: "", message: "\(error)")
        }
    }

    private static func node(at path: [any CodingKey], in root: YAMLNode) -> YAMLNode? {
        var current = root
        for key in path {
            switch current.kind {
            case .mapping(let entries):
                guard let next = entries.first(where: { $0.key == key.stringValue })?.value else { return current }
                current = next
            case .sequence(let items):
                guard let i = key.intValue, i < items.count else { return current }
                current = items[i]
            case .scalar:
                return current
            }
        }
        return current
    }
}
