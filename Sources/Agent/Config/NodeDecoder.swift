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

extension String {
    /// YAML allows `1_000`: the number's text without its underscores.
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
