/// The one way a configuration value that decodes but is not acceptable becomes an error: a
/// `dataCorrupted` at its coding path, to which the loader adds the file and line.
extension DecodingError {
    static func invalid(at codingPath: [any CodingKey], _ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
    }
}

extension KeyedDecodingContainer {
    /// The error for a value at `key`.
    func invalid(_ key: Key, _ message: String) -> DecodingError { .invalid(at: codingPath + [key], message) }
}
