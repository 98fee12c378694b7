import COpenSSL

/// Ed25519 signatures over a configuration's text, and SHA-256 digests, through the OpenSSL the
/// agent links for TLS already (no second crypto library). Keys are PEM files as `openssl genpkey
/// -algorithm ed25519` writes them.
public enum ConfigSignature {
    /// The signature's size: Ed25519 signatures are always 64 bytes.
    public static let size = 64

    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
    }

    /// A public key that checks signatures.
    public final class PublicKey {
        private let key: OpaquePointer

        public init(file: String) throws(KeyError) {
            guard let bio = BIO_new_file(file, "r") else { throw KeyError(description: "cannot read \(file)") }
            defer { BIO_free(bio) }
            guard let key = PEM_read_bio_PUBKEY(bio, nil, nil, nil) else {
                ERR_clear_error()
                throw KeyError(description: "\(file) is not a PEM public key (openssl pkey -in PRIVATE -pubout)")
            }
            guard EVP_PKEY_is_a(key, "ED25519") == 1 else {
                EVP_PKEY_free(key)
                throw KeyError(description: "\(file) is not an Ed25519 key (openssl genpkey -algorithm ed25519)")
            }
            self.key = key
        }

        deinit { EVP_PKEY_free(key) }

        /// Whether `signature` is this key's over exactly `message`.
        public func verifies(_ signature: [UInt8], over message: [UInt8]) -> Bool {
            guard signature.count == ConfigSignature.size, let context = EVP_MD_CTX_new() else { return false }
            defer { EVP_MD_CTX_free(context) }
            guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { ERR_clear_error(); return false }
            let result = EVP_DigestVerify(context, signature, signature.count, message, message.count)
            ERR_clear_error()
            return result == 1
        }
    }

    /// A private key that makes signatures (`edge-agent sign-config`, tests).
    public final class PrivateKey {
        private let key: OpaquePointer

        public init(file: String) throws(KeyError) {
            guard let bio = BIO_new_file(file, "r") else { throw KeyError(description: "cannot read \(file)") }
            defer { BIO_free(bio) }
            guard let key = PEM_read_bio_PrivateKey(bio, nil, nil, nil) else {
                ERR_clear_error()
                throw KeyError(description: "\(file) is not a PEM private key (openssl genpkey -algorithm ed25519 -out FILE)")
            }
            guard EVP_PKEY_is_a(key, "ED25519") == 1 else {
                EVP_PKEY_free(key)
                throw KeyError(description: "\(file) is not an Ed25519 key (openssl genpkey -algorithm ed25519)")
            }
            self.key = key
        }

        deinit { EVP_PKEY_free(key) }

        public func sign(_ message: [UInt8]) throws(KeyError) -> [UInt8] {
            guard let context = EVP_MD_CTX_new() else { throw KeyError(description: "out of memory") }
            defer { EVP_MD_CTX_free(context) }
            var signature = [UInt8](repeating: 0, count: ConfigSignature.size)
            var length = signature.count
            guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
                EVP_DigestSign(context, &signature, &length, message, message.count) == 1, length == ConfigSignature.size
            else {
                ERR_clear_error()
                throw KeyError(description: "signing failed")
            }
            return signature
        }
    }

    /// SHA-256 of `bytes`, in lower-case hex.
    public static func digest(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = EVP_Digest(bytes, bytes.count, &out, &length, EVP_sha256(), nil)
        let hex = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(64)
        for b in out { text.append(hex[Int(b >> 4)]); text.append(hex[Int(b & 0xF)]) }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Standard base64 (RFC 4648, with padding), as `openssl base64 -A` writes it.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0xF) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil for anything that is not canonical base64 (wrong length, characters,
    /// padding, or bits left over): a signature has one spelling.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var values = [UInt8](repeating: 0, count: 4)
            var padding = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    padding += 1
                    continue
                }
                guard padding == 0, let v = value(c) else { return nil }
                values[j] = v
            }
            out.append(values[0] << 2 | values[1] >> 4)
            if padding < 2 { out.append(values[1] << 4 | values[2] >> 2) } else if values[1] & 0xF != 0 { return nil }
            if padding < 1 { out.append(values[2] << 6 | values[3]) } else if padding == 1 && values[2] & 0x3 != 0 { return nil }
            i += 4
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
