@testable import Agent
@testable import MQTT

#if canImport(Glibc)
import Glibc
#endif

/// A command request as the broker delivers it, through a real agent (simulated board, never
/// connected): inbox, JSON parser, the command table and its handlers, the reply writer. Byte 0
/// picks the command, byte 1 the packet id and DUP flag, the rest is the payload. When byte 1's
/// top bit is set, byte 2 says how many bytes after it are a 5.0 property block (Response Topic,
/// Correlation Data, Message Expiry), used when it is valid as a PUBLISH's. The last name in
/// `names` sends the rest as a configuration text, signed (`runSignedConfig`).
enum FuzzCommands {
    /// A key pair made for the fuzz target only: inputs signed with it reach everything past the
    /// signature check (the checks of the text, the version, the write of the trial).
    static let privateKey = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIN6IWMMNUBhh3PvwFY0Kmb3aKyj19mIK+3/vA66jtKV7
        -----END PRIVATE KEY-----

        """
    static let publicKey = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEARYA6T1GMlwOpzz8Jsc11dDtpCeJ2stumqmffZSDgE4I=
        -----END PUBLIC KEY-----

        """

    nonisolated(unsafe) static var directory = ""

    nonisolated(unsafe) static let agent: Agent = {
        Log.minimum = .error
        var template: [CChar] = Array("/tmp/edge-fuzz-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { fatalError("mkdtemp") }
        let path = String(cString: dir)
        directory = path
        let yaml = """
            device_id: fuzz
            mqtt: {brokers: [mqtt://127.0.0.1:1]}
            spool: {dir: \(path)/spool, durability: never}
            clock_check: false
            remote_config: {enabled: true, public_key: \(path)/key.pub, dir: \(path)/remote, group: fleet}
            sensors:
              - {name: air, driver: simulated, interval: 1s}
            gpio:
              - {name: relay, line: GPIO20, direction: output, commandable: true}
              - {name: door, line: GPIO21, direction: input}
            """
        do {
            try write(yaml, to: "\(path)/config.yaml")
            try write(publicKey, to: "\(path)/key.pub")
            try write(privateKey, to: "\(path)/key.pem")
            signer = try ConfigSignature.PrivateKey(file: "\(path)/key.pem")
            return try Agent(starting: AgentConfig.starting(path: "\(path)/config.yaml"), configPath: "\(path)/config.yaml")
        } catch { fatalError("\(error)") }
    }()

    nonisolated(unsafe) static var signer: ConfigSignature.PrivateKey?

    static func write(_ text: String, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("open \(path)") }
        defer { close(fd) }
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// `config-set` with the rest of the input as a configuration text, signed with the key the
    /// agent trusts (the JSON request built around it), and the same bytes on the group topic.
    static func runSignedConfig(_ text: UnsafeRawBufferPointer) {
        let bytes = Array(text)
        // The formats the switch reads back from its own files, and the signature's encoding.
        _ = StoredConfig.parse(bytes)
        _ = RemoteConfigState.parse(bytes)
        _ = Base64.decode(String(decoding: bytes, as: UTF8.self))
        let config = String(decoding: bytes, as: UTF8.self)
        guard let signature = try? signer?.sign(Array(config.utf8)) else { return }
        var request = JSONWriter(capacity: 256)
        defer { request.deallocate() }
        request.beginObject()
        request.key("id"); request.string("fuzz")
        request.key("config"); request.string(config)
        request.key("signature"); request.string(Base64.encode(signature))
        request.endObject()
        Array("edge/fuzz/cmd/config-set".utf8).withUnsafeBytes { t in
            agent.commands.receive(topic: t, payload: request.view, size: request.view.count, packetID: 1, dup: false)
        }
        agent.commands.run(statusPending: false, on: agent)
        agent.remote.receiveGroup(request.view)
        agent.client.session.discardInflight()
        agent.commands.dropHeldReply()
        agent.process.cancelReload()
        _ = agent.remote.wantsRestart
        // An applied configuration: its trial file goes, so the next input starts as this one did.
        unlink("\(directory)/remote/trial")
    }

    static let names = CommandSpec.names + ["", "unknown", "ping/extra", String(repeating: "x", count: 300), signedConfig]
    static let signedConfig = "(signed config-set)"

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 2 else { return }
        let command = names[Int(bytes[0]) % names.count]
        if command == signedConfig { return runSignedConfig(UnsafeRawBufferPointer(rebasing: bytes[2...])) }
        let topic = Array("edge/fuzz/cmd/\(command)".utf8)
        var payload = UnsafeRawBufferPointer(rebasing: bytes[2...])
        var properties = Properties.none
        if bytes[1] & 0x80 != 0, bytes[1] != 0xFF, let length = payload.first.map(Int.init), payload.count > length {
            let block = UnsafeRawBufferPointer(rebasing: payload[1..<(1 + length)])
            if let checked = try? Properties(block, checkedAs: .publish) { properties = checked }
            payload = UnsafeRawBufferPointer(rebasing: payload[(1 + length)...])
        }
        // Now and then an oversized request, as the session reports one it skipped.
        let size = bytes[1] == 0xFF ? 100_000 : payload.count
        topic.withUnsafeBytes { t in
            agent.commands.receive(
                topic: t, payload: size == payload.count ? payload : UnsafeRawBufferPointer(start: nil, count: 0),
                size: size, packetID: UInt16(bytes[1] & 0x3F) + 1, dup: bytes[1] & 0x40 != 0, properties: properties)
        }
        agent.commands.run(statusPending: false, on: agent)
        agent.client.session.discardInflight()
        agent.commands.dropHeldReply()
        agent.process.cancelReload()
    }
}
