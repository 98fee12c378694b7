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

/// Progress of a non-blocking connect or handshake.
public enum ConnectProgress: Equatable {
    case ready
    case wantRead
    case wantWrite
}

/// Outcome of a non-blocking read or write.
public enum IOStatus: Equatable {
    case transferred(Int)
    /// Nothing now; poll for the given direction (TLS may need to write in order to read).
    case wouldBlock(wantWrite: Bool)
    case closed
}

/// A byte stream to the broker (the two-function network interface of coreMQTT, plus connect).
public protocol Transport: AnyObject {
    var fileDescriptor: Int32 { get }
    /// Drives the connection (and TLS handshake) forward without blocking.
    func advanceConnect() throws(TransportError) -> ConnectProgress
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> IOStatus
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> IOStatus
    func close()
    /// Whether bytes are already buffered in user space (TLS records read but not yet returned),
    /// which poll(2) cannot see.
    var hasBufferedInput: Bool { get }
}
