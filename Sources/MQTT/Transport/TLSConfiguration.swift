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
