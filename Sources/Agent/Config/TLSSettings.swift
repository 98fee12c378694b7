import Sensors
import Spool

public struct TLSSettings: Decodable, Equatable, Sendable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    /// Verify the broker's certificate and host name. Off is for lab use only.
    public var verify: Bool
    public var serverName: String?
    public var alpn: [String]

    /// What an mqtts:// broker uses with no `tls:` section: the system trust store, verification on.
    static let defaults = TLSSettings(caFile: nil, certFile: nil, keyFile: nil, verify: true, serverName: nil, alpn: [])

    init(caFile: String?, certFile: String?, keyFile: String?, verify: Bool, serverName: String?, alpn: [String]) {
        self.caFile = caFile; self.certFile = certFile; self.keyFile = keyFile
        self.verify = verify; self.serverName = serverName; self.alpn = alpn
    }

    enum CodingKeys: String, CodingKey {
        case caFile = "ca_file", certFile = "cert_file", keyFile = "key_file", verify, serverName = "server_name", alpn
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        certFile = try c.decodeIfPresent(String.self, forKey: .certFile)
        keyFile = try c.decodeIfPresent(String.self, forKey: .keyFile)
        verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? true
        serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
        alpn = try c.decodeIfPresent([String].self, forKey: .alpn) ?? []
        if (certFile == nil) != (keyFile == nil) {
            throw c.invalid(.keyFile, "cert_file and key_file go together")
        }
    }
}
