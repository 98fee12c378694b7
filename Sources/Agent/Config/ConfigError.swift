/// A config error that names the file, the line and the key path.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let key: String
    public let message: String

    public var description: String {
        key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(key): \(message)"
    }
}
