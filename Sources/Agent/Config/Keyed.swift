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
