import COpenSSL
import CTLSMemory

#if canImport(Glibc)
import Glibc
#endif

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
