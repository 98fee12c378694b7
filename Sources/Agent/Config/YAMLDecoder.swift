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
        let root: YAMLNode
        do { root = try YAMLParser.parse(text) } catch let error as YAMLError {
            throw ConfigError(file: file, line: error.line, key: "", message: error.message)
        } catch { throw ConfigError(file: file, line: 0, key: "", message: "\(error)") }
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

struct IndexKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ index: Int) { intValue = index; stringValue = String(index) }
    init?(intValue: Int) { self.init(intValue) }
    init?(stringValue: String) { return nil }
}

struct NodeDecoder: Decoder {
    let node: YAMLNode
    let path: [any CodingKey]
    let file: String
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func fail(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.line, key: path.map(\.stringValue).joined(separator: "."), message: message)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries) = node.kind else {
            if node.isNull { return KeyedDecodingContainer(Keyed(decoder: self, entries: [:])) }
            throw fail("expected a mapping (key: value lines), found \(node.typeName)")
        }
        return KeyedDecodingContainer(
            Keyed(decoder: self, entries: Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = node.kind else {
            if node.isNull { return Unkeyed(decoder: self, items: []) }
            throw fail("expected a list (- item lines), found \(node.typeName)")
        }
        return Unkeyed(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    func child(_ node: YAMLNode, key: any CodingKey) -> NodeDecoder { NodeDecoder(node: node, path: path + [key], file: file) }

    /// A scalar's text, or an error naming what was found instead.
    func scalar() throws -> String {
        guard case .scalar(let text, _) = node.kind else { throw fail("expected a value, found \(node.typeName)") }
        return text
    }

    func decodeScalar<T: Decodable>(_ type: T.Type) throws -> T {
        if type == String.self { return try scalar() as! T }
        if type == Bool.self {
            switch try scalar().lowercased() {
            case "true", "yes", "on": return true as! T
            case "false", "no", "off": return false as! T
            default: throw fail("expected true or false, found '\(try scalar())'")
            }
        }
        if type == Double.self {
            guard let v = Double(try scalar()) else { throw fail("expected a number, found '\(try scalar())'") }
            return v as! T
        }
        if let integer = type as? any FixedWidthInteger.Type {
            let text = try scalar()
            guard let v = Int64(text.replacingUnderscores()) else { throw fail("expected a whole number, found '\(text)'") }
            guard let converted = integer.init(exactly: v) else { throw fail("\(v) is out of range") }
            return converted as! T
        }
        return try T(from: self)
    }
}

private extension String {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}

struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [String: YAMLNode]
    var codingPath: [any CodingKey] { decoder.path }
    var allKeys: [Key] { entries.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        decoder.node.usedKeys.insert(key.stringValue)
        return entries[key.stringValue] != nil
    }

    func value(_ key: Key) throws -> YAMLNode {
        decoder.node.usedKeys.insert(key.stringValue)
        guard let node = entries[key.stringValue] else {
            throw ConfigError(
                file: decoder.file, line: decoder.node.line,
                key: (decoder.path + [key]).map(\.stringValue).joined(separator: "."), message: "required key is missing")
        }
        return node
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).isNull }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try value(key), key: key).decodeScalar(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key), let node = entries[key.stringValue], !node.isNull else { return nil }
        return try decoder.child(node, key: key).decodeScalar(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(try value(key), key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(try value(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(try value(key), key: key) }
}

struct Unkeyed: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [YAMLNode]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.path }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else { throw decoder.fail("list has too few items") }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeScalar(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

struct Single: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.path }
    func decodeNil() -> Bool { decoder.node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeScalar(type) }
}
