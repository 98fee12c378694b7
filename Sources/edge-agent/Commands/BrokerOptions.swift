import Agent
import ArgumentParser
import MQTT
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// Connection options shared by `pub`, `sub` and `bench`, named as mosquitto_pub/sub name them.
struct BrokerOptions: ParsableArguments {
    @Option(name: [.customShort("h"), .long], help: "Broker host.")
    var host = "localhost"

    @Option(name: [.customShort("p"), .long], help: "Broker port (default 1883, or 8883 with --tls).")
    var port: UInt16?

    @Option(
        name: .customLong("broker"),
        help: "Broker URL, mqtt://HOST:PORT or mqtts://HOST:PORT; repeat for failover. Overrides --host/--port.")
    var brokers: [String] = []

    @Option(name: [.customShort("i"), .customLong("id")], help: "Client identifier (default: edge-agent-<pid>).")
    var clientID: String?

    @Option(
        name: [.customShort("V"), .customLong("protocol-version")],
        help: "MQTT version: 5, 3.1.1 (the default, as mosquitto_pub's), or auto (5.0, 3.1.1 for a broker that refuses it).")
    var protocolVersion = "3.1.1"

    @Option(name: [.customShort("k"), .customLong("keepalive")], help: "Keep alive, seconds.")
    var keepAlive: UInt16 = 60

    @Option(name: [.customShort("u"), .customLong("username")], help: "User name.")
    var username: String?

    @Option(
        name: .customLong("password-file"),
        help: "Read the password from this file (first line). The environment variable EDGE_AGENT_PASSWORD works too.")
    var passwordFile: String?

    @Flag(name: .customLong("tls"), help: "Use TLS (implied by mqtts:// URLs and by --cafile).")
    var tls = false

    @Option(name: .customLong("cafile"), help: "PEM file of CA certificates to trust (default: the system trust store).")
    var caFile: String?

    @Option(name: .customLong("cert"), help: "Client certificate (PEM) for mutual TLS.")
    var certificate: String?

    @Option(name: .customLong("key"), help: "Client private key (PEM) for mutual TLS.")
    var key: String?

    @Option(name: .customLong("alpn"), help: "ALPN protocol to offer (repeatable), e.g. x-amzn-mqtt-ca.")
    var alpn: [String] = []

    @Option(name: .customLong("server-name"), help: "Name to send in SNI and verify in the certificate, if not the host.")
    var serverName: String?

    @Flag(name: .customLong("insecure"), help: "Do not verify the broker's certificate or host name. For lab use only.")
    var insecure = false

    @Option(name: .customLong("will-topic"), help: "Last will topic.")
    var willTopic: String?

    @Option(name: .customLong("will-payload"), help: "Last will payload.")
    var willPayload = ""

    @Option(name: .customLong("will-qos"), help: "Last will QoS.")
    var willQoS: UInt8 = 1

    @Flag(name: .customLong("will-retain"), help: "Retain the last will.")
    var willRetain = false

    func brokerAddresses() throws -> [BrokerAddress] {
        if brokers.isEmpty {
            let useTLS = tls || caFile != nil || certificate != nil
            return [BrokerAddress(host: host, port: port ?? (useTLS ? 8883 : 1883), useTLS: useTLS)]
        }
        return try brokers.map { url in
            guard let address = BrokerAddress(url: url) else {
                throw ValidationError("bad broker URL '\(url)': expected mqtt://HOST:PORT or mqtts://HOST:PORT")
            }
            return address
        }
    }

    func password() throws -> [UInt8]? {
        if let passwordFile {
            guard let text = readFile(passwordFile) else { throw ValidationError("cannot read password file \(passwordFile)") }
            return Array((text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").utf8)
        }
        if let env = getenv("EDGE_AGENT_PASSWORD") { return Array(String(cString: env).utf8) }
        return nil
    }

    func clientConfiguration(cleanSession: Bool = true, maxInflight: Int = 32) throws -> ClientConfiguration {
        var will: Will?
        if let willTopic {
            guard let qos = QoS(rawValue: willQoS) else { throw ValidationError("--will-qos must be 0, 1 or 2") }
            will = Will(topic: willTopic, payload: Array(willPayload.utf8), qos: qos, retain: willRetain)
        }
        var connect = ConnectOptions(
            clientID: clientID ?? "edge-agent-\(getpid())", cleanSession: cleanSession,
            keepAlive: keepAlive, will: will, username: username, password: try password())
        let fallback: Bool
        switch protocolVersion.lowercased() {
        case "5", "5.0", "mqttv5": (connect.version, fallback) = (.v5, false)
        case "3.1.1", "311", "mqttv311": (connect.version, fallback) = (.v311, false)
        case "auto": (connect.version, fallback) = (.v5, true)
        default: throw ValidationError("-V must be 5, 3.1.1 or auto, not '\(protocolVersion)'")
        }
        // A session kept under 3.1.1 lasts until it is cleaned; under 5.0 that is an expiry of "never".
        if !cleanSession { connect.sessionExpiry = .max }
        var session = SessionConfiguration(connect: connect)
        session.maxInflight = maxInflight
        var config = ClientConfiguration(brokers: try brokerAddresses(), session: session)
        config.versionFallback = fallback
        config.tls.caFile = caFile
        config.tls.certificateFile = certificate
        config.tls.keyFile = key
        config.tls.alpn = alpn
        config.tls.serverName = serverName
        config.tls.verifyPeer = !insecure
        config.tls.verifyHostname = !insecure
        return config
    }
}

func printError(_ message: String) {
    writeOut("edge-agent: " + message + "\n", to: 2)
}

/// Writes all of `text` to a file descriptor (1 standard output, 2 standard error), unbuffered.
func writeOut(_ text: String, to fd: Int32 = 1) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
