/// A broker to connect to: `mqtt://host:port` (TCP, default 1883) or `mqtts://host:port` (TLS, 8883).
public struct BrokerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    public var useTLS: Bool

    public init(host: String, port: UInt16, useTLS: Bool) {
        self.host = host
        self.port = port
        self.useTLS = useTLS
    }

    public init?(url: String) {
        var rest = Substring(url)
        var tls = false
        if rest.hasPrefix("mqtts://") {
            tls = true; rest = rest.dropFirst(8)
        } else if rest.hasPrefix("ssl://") {
            tls = true; rest = rest.dropFirst(6)
        } else if rest.hasPrefix("mqtt://") {
            rest = rest.dropFirst(7)
        } else if rest.hasPrefix("tcp://") {
            rest = rest.dropFirst(6)
        } else if rest.contains("://") {
            return nil
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest
        var port: UInt16 = tls ? 8883 : 1883
        if rest.hasPrefix("[") { // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = UInt16(after.dropFirst()) else { return nil }; port = p
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = UInt16(rest[rest.index(after: colon)...]), p > 0 else { return nil }
            port = p
        }
        guard !host.isEmpty, !host.contains("/") else { return nil }
        self.init(host: String(host), port: port, useTLS: tls)
    }

    /// The first server a 5.0 Server Reference names ("host", "host:port" or "[v6]:port", several
    /// separated by spaces; 4.11), reached as `current` is (TLS or not, and its port by default).
    public init?(serverReference: String, like current: BrokerAddress) {
        guard let first = serverReference.split(separator: " ").first, !first.isEmpty, first.utf8.count <= 255 else { return nil }
        guard var address = BrokerAddress(url: (current.useTLS ? "mqtts://" : "mqtt://") + first) else { return nil }
        if !first.contains(":") || (first.hasPrefix("[") && !first.contains("]:")) { address.port = current.port }
        self = address
    }

    public var description: String { "\(useTLS ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
