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
    /// The addresses the host resolved to, and how many a connect was started to (the one in use
    /// included), for BrokerRotation.
    var addressCount: Int { get }
    var addressesTried: Int { get }
}
