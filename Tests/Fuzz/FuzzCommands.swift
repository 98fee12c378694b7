@testable import Agent
@testable import MQTT

#if canImport(Glibc)
import Glibc
#endif

/// A command request as the broker delivers it, through a real agent (simulated board, never
/// connected): inbox, JSON parser, the command table and its handlers, the reply writer. Byte 0
/// picks the command, byte 1 the packet id and DUP flag, the rest is the payload. When byte 1's
/// top bit is set, byte 2 says how many bytes after it are a 5.0 property block (Response Topic,
/// Correlation Data, Message Expiry), used when it is valid as a PUBLISH's.
enum FuzzCommands {
    nonisolated(unsafe) static let agent: Agent = {
        Log.minimum = .error
        var template: [CChar] = Array("/tmp/edge-fuzz-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { fatalError("mkdtemp") }
        let path = String(cString: dir)
        let yaml = """
            device_id: fuzz
            mqtt: {brokers: [mqtt://127.0.0.1:1]}
            spool: {dir: \(path)/spool, durability: never}
            clock_check: false
            sensors:
              - {name: air, driver: simulated, interval: 1s}
            gpio:
              - {name: relay, line: GPIO20, direction: output, commandable: true}
              - {name: door, line: GPIO21, direction: input}
            """
        do { return try Agent(config: YAMLDecoder.decode(AgentConfig.self, from: yaml, file: "fuzz.yaml")) } catch {
            fatalError("\(error)")
        }
    }()

    static let names = CommandSpec.names + ["", "unknown", "ping/extra", String(repeating: "x", count: 300)]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 2 else { return }
        let command = names[Int(bytes[0]) % names.count]
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
