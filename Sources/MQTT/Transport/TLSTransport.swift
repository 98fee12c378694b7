import COpenSSL
import CTLSMemory

#if canImport(Glibc)
import Glibc
#endif

/// TLS over a non-blocking TCP connection, driven by OpenSSL's WANT_READ/WANT_WRITE.
public final class TLSTransport: Transport {
    private let tcp: TCPTransport
    private let context: TLSContext
    private var ssl: OpaquePointer?

    public init(host: String, port: UInt16, context: TLSContext, firstAddress: UInt64 = 0) {
        self.tcp = TCPTransport(host: host, port: port, firstAddress: firstAddress)
        self.context = context
    }

    public var addressCount: Int { tcp.addressCount }
    public var addressesTried: Int { tcp.addressesTried }

    deinit { close() }

    public var fileDescriptor: Int32 { tcp.fileDescriptor }

    public func advanceConnect() throws(TransportError) -> ConnectProgress {
        if ssl == nil {
            let progress = try tcp.advanceConnect()
            guard progress == .ready else { return progress }
            try startHandshake()
        }
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 { return .ready }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                throw .certificate(
                    message: String(cString: X509_verify_cert_error_string(verify))
                        + " (broker \(tcp.host):\(tcp.port))")
            }
            let queue = TLSContext.errorQueue()
            throw .tls(
                operation: "handshake with \(tcp.host):\(tcp.port)",
                message: queue == "unknown error" ? "connection closed during handshake" : queue)
        }
    }

    private func startHandshake() throws(TransportError) {
        guard let ssl = SSL_new(context.context) else {
            throw .tls(operation: "new session", message: TLSContext.errorQueue())
        }
        self.ssl = ssl
        SSL_set_fd(ssl, tcp.fileDescriptor)
        let name = context.configuration.serverName ?? tcp.host
        let isAddress = TLSTransport.isIPAddress(name)
        if !isAddress { _ = edge_SSL_set_tlsext_host_name(ssl, name) } // SNI carries names only (RFC 6066 3)
        if context.configuration.verifyPeer && context.configuration.verifyHostname {
            let ok = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) : SSL_set1_host(ssl, name)
            guard ok == 1 else { throw .configuration("cannot set the name to verify: \(name)") }
        }
        SSL_set_connect_state(ssl)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> IOStatus {
        ERR_clear_error()
        edge_tls_memory_pooling(1) // the record layer's per-record blocks come from the pool
        let n = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        edge_tls_memory_pooling(0)
        if n > 0 { return .transferred(Int(n)) }
        return try status(after: n, operation: "read")
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(TransportError) -> IOStatus {
        ERR_clear_error()
        edge_tls_memory_pooling(1)
        let n = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        edge_tls_memory_pooling(0)
        if n > 0 { return .transferred(Int(n)) }
        return try status(after: n, operation: "write")
    }

    private func status(after result: Int32, operation: String) throws(TransportError) -> IOStatus {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ: return .wouldBlock(wantWrite: false)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(wantWrite: true)
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            return .closed // EOF or reset without close_notify
        default:
            throw .tls(operation: "\(operation) with \(tcp.host):\(tcp.port)", message: TLSContext.errorQueue())
        }
    }

    public var hasBufferedInput: Bool { ssl.map { SSL_has_pending($0) == 1 } ?? false }

    public func close() {
        if let ssl {
            SSL_free(ssl) // no close_notify wait: the MQTT DISCONNECT already said goodbye
            self.ssl = nil
        }
        tcp.close()
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
