import Foundation

/// A real mosquitto broker on a free loopback port with its own configuration, for one test.
/// Stopped (SIGTERM) when the value goes away; `restart()` brings it back on the same port.
public final class Mosquitto: @unchecked Sendable {
    public struct Options: Sendable {
        public var users: [String: String] = [:]
        public var tls: Certificates?
        public var requireClientCertificate = false
        public var extraConfig: [String] = []
        /// Keep sessions and queued messages across restarts (in the broker's directory), as
        /// brokers in the field do: what it has not delivered comes again after a restart.
        public var persistence = false
        public init() {}
    }

    public let port: UInt16
    public let directory = TemporaryDirectory("mosquitto")
    private let options: Options
    private var process: ChildProcess?

    public init(_ options: Options = Options()) throws {
        self.options = options
        self.port = freeLoopbackPort()
        try writeConfig()
        try start()
    }

    deinit { stop() }

    public var url: String { "\(options.tls == nil ? "mqtt" : "mqtts")://127.0.0.1:\(port)" }

    private func writeConfig() throws {
        var lines = [
            "listener \(port) 127.0.0.1",
            "user root", // run as the test's user: by default it drops to 'mosquitto', which cannot write here
            options.persistence ? "persistence true" : "persistence false",
            "persistence_location \(directory.path)/",
            "log_dest file \(directory.file("mosquitto.log"))",
            "log_type all",
            "max_inflight_messages 0",
            "max_queued_messages 100000",
        ]
        if options.users.isEmpty {
            lines.append("allow_anonymous true")
        } else {
            let passwords = directory.file("passwords")
            for (user, password) in options.users {
                var args = ["-b"]
                if !FileManager.default.fileExists(atPath: passwords) { args.append("-c") }
                try run("mosquitto_passwd", args + [passwords, user, password])
            }
            lines += ["allow_anonymous false", "password_file \(passwords)"]
        }
        if let tls = options.tls {
            lines += ["cafile \(tls.caCertificate)", "certfile \(tls.serverCertificate)", "keyfile \(tls.serverKey)"]
            if options.requireClientCertificate { lines.append("require_certificate true") }
        }
        lines += options.extraConfig
        try lines.joined(separator: "\n").appending("\n").write(toFile: directory.file("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    public func start() throws {
        process = try ChildProcess("/usr/sbin/mosquitto", ["-c", directory.file("mosquitto.conf")])
        guard waitUntil(seconds: 10, { isListening(port: port) }) else {
            throw CommandFailure(command: "mosquitto", status: -1, stderr: log)
        }
    }

    public func stop() {
        guard let process else { return }
        process.signal(SIGTERM)
        process.wait()
        self.process = nil
    }

    /// SIGSTOP or SIGCONT: a broker that keeps its connections open but answers nothing.
    public func signal(_ signal: Int32) { process?.signal(signal) }

    public func restart() throws {
        stop()
        try start()
    }

    public var log: String { (try? String(contentsOfFile: directory.file("mosquitto.log"), encoding: .utf8)) ?? "" }
}

/// A CA, a server certificate for "localhost" (and no IP address), and a client certificate, made
/// with the openssl command-line tool at test time.
public struct Certificates: Sendable {
    public let caCertificate: String
    public let serverCertificate: String
    public let serverKey: String
    public let clientCertificate: String
    public let clientKey: String
    /// A client certificate from a CA the broker does not trust.
    public let strangerCertificate: String
    public let strangerKey: String

    public init(in directory: TemporaryDirectory) throws {
        let d = directory.path
        func openssl(_ args: String...) throws { try run("openssl", Array(args), in: d) }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try run(
            "openssl", ["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=edge-agent test CA"],
            in: d)
        try run(
            "openssl",
            ["req", "-x509"] + ec + ["-keyout", "stranger-ca.key", "-out", "stranger-ca.crt", "-days", "2", "-subj", "/CN=stranger CA"],
            in: d)
        func issue(_ name: String, _ subject: String, ca: String, extensions: String) throws {
            try run("openssl", ["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: d)
            try extensions.write(toFile: "\(d)/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial",
                "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext")
        }
        try issue("server", "/CN=localhost", ca: "ca", extensions: "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try issue("client", "/CN=edge-agent-client", ca: "ca", extensions: "extendedKeyUsage=clientAuth\n")
        try issue("stranger", "/CN=stranger", ca: "stranger-ca", extensions: "extendedKeyUsage=clientAuth\n")
        caCertificate = "\(d)/ca.crt"
        serverCertificate = "\(d)/server.crt"
        serverKey = "\(d)/server.key"
        clientCertificate = "\(d)/client.crt"
        clientKey = "\(d)/client.key"
        strangerCertificate = "\(d)/stranger.crt"
        strangerKey = "\(d)/stranger.key"
    }
}
