import Syscalls

/// Why a connection to the broker could not be made or kept. Descriptions name the broker and the
/// operation, so a log line says what failed without a debugger.
public enum TransportError: Error, CustomStringConvertible, Equatable {
    case resolve(host: String, message: String)
    case system(operation: String, errno: Errno)
    case tls(operation: String, message: String)
    case certificate(message: String)
    case closedByPeer
    case connectTimeout
    case configuration(String)

    public var description: String {
        switch self {
        case .resolve(let host, let message): "cannot resolve \(host): \(message)"
        case .system(let operation, let errno): "\(operation): \(errno)"
        case .tls(let operation, let message): "TLS \(operation): \(message)"
        case .certificate(let message): "TLS certificate verification failed: \(message)"
        case .closedByPeer: "connection closed by the broker"
        case .connectTimeout: "connection attempt timed out"
        case .configuration(let message): "TLS configuration: \(message)"
        }
    }
}
