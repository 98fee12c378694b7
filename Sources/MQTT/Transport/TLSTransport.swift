import COpenSSL
import CTLSMemory

#if canImport(Glibc)
import Glibc
#endif

public struct TLSConfiguration: Sendable, Equatable {
    public enum Version: Sendable, Equatable { case tls12, tls13 }

    /// PEM file of trusted CA certificates; nil with `caDirectory` nil uses the system trust store.
    public var caFile: String?
    public var caDirectory: String?
    /// Client certificate chain and key for mutual TLS (as AWS IoT Core requires), PEM.
    public var certificateFile: String?
    public var keyFile: String?
    /// Verify the broker's certificate chain. Turning this off is for lab use only.
    public var verifyPeer = true
    /// Verify that the certificate names the broker's host (or `serverName`).
    public var verifyHostname = true
    /// Name sent in SNI and checked against the certificate; defaults to the broker's host.
    public var serverName: String?
    /// ALPN protocols, e.g. ["x-amzn-mqtt-ca"] for AWS IoT Core on port 443.
    public var alpn: [String] = []
    public var minimumVersion: Version = .tls12

    public init() {}
}

/// An OpenSSL `SSL_CTX` built once from the configuration and shared by every connection attempt,
/// so certificates are read and checked at start-up, not on each reconnect.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    public let configuration: TLSConfiguration

    /// Whether OpenSSL allocates from the pool (CTLSMemory): installed before its first use.
    public static let pooledMemory: Bool = edge_tls_memory_install() == 1

    public init(_ configuration: TLSConfiguration) throws(TransportError) {
        self.configuration = configuration
        _ = TLSContext.pooledMemory
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .tls(operation: "create context", message: TLSContext.errorQueue())
        }
        self.context = context
        let version = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard edge_SSL_CTX_set_min_proto_version(context, version) == 1 else {
            throw .configuration("cannot set minimum TLS version")
        }
        // Partial writes and a moving buffer: the client retries writes from a buffer that may have
        // been compacted since.
        _ = edge_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        if configuration.caFile != nil || configuration.caDirectory != nil {
            guard SSL_CTX_load_verify_locations(context, configuration.caFile, configuration.caDirectory) == 1 else {
                throw .configuration(
                    "cannot load CA certificates from \(configuration.caFile ?? configuration.caDirectory ?? ""): \(TLSContext.errorQueue())"
                )
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .configuration("cannot load the system trust store: \(TLSContext.errorQueue())")
            }
        }
        SSL_CTX_set_verify(context, configuration.verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        if let certificate = configuration.certificateFile {
            guard let key = configuration.keyFile else { throw .configuration("a client certificate needs its key file") }
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw .configuration("cannot load client certificate \(certificate): \(TLSContext.errorQueue())")
            }
            // The key's contents are never logged; only its path.
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
                SSL_CTX_check_private_key(context) == 1
            else {
                throw .configuration("cannot load client key \(key) or it does not match the certificate: \(TLSContext.errorQueue())")
            }
        }
        if !configuration.alpn.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.alpn {
                guard !name.isEmpty, name.utf8.count < 256 else { throw .configuration("bad ALPN protocol name '\(name)'") }
                wire.append(UInt8(name.utf8.count))
                wire.append(contentsOf: name.utf8)
            }
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {
                throw .configuration("cannot set ALPN protocols")
            }
        }
    }

    deinit { SSL_CTX_free(context) }

    /// Drains OpenSSL's thread-local error queue into one line.
    static func errorQueue() -> String {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "unknown error" : messages.joined(separator: "; ")
    }
}

/// TLS over a non-blocking TCP connection, driven by OpenSSL's WANT_READ/WANT_WRITE.
public final class TLSTransport: Transport {
    private let tcp: TCPTransport
    private let context: TLSContext
    private var ssl: OpaquePointer?

    public init(host: String, port: UInt16, context: TLSContext) {
        self.tcp = TCPTransport(host: host, port: port)
        self.context = context
    }

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
