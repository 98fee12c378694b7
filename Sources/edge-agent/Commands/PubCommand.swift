import Agent
import ArgumentParser
import MQTT

#if canImport(Glibc)
import Glibc
#endif

/// `edge-agent pub`: publish one message, like mosquitto_pub.
struct PubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pub", abstract: "Publish one message (like mosquitto_pub).")

    @OptionGroup var broker: BrokerOptions

    @Option(name: [.customShort("t"), .long], help: "Topic to publish on.")
    var topic: String

    @Option(name: [.customShort("m"), .customLong("message")], help: "Payload text.")
    var message: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "Send this file's contents as the payload.")
    var file: String?

    @Flag(name: [.customShort("s"), .customLong("stdin")], help: "Read the payload from standard input.")
    var stdin = false

    @Option(name: [.customShort("q"), .long], help: "QoS: 0, 1 or 2.")
    var qos: UInt8 = 1

    @Flag(name: [.customShort("r"), .long], help: "Retain the message.")
    var retain = false

    @Option(name: .long, help: "Seconds to wait for the broker.")
    var timeout: Double = 10

    func validate() throws {
        let sources = [message != nil, file != nil, stdin].filter { $0 }.count
        guard sources <= 1 else { throw ValidationError("give at most one of --message, --file, --stdin") }
        guard QoS(rawValue: qos) != nil else { throw ValidationError("--qos must be 0, 1 or 2") }
        if let problem = Topic.validateName(topic) { throw ValidationError("\(problem)") }
    }

    func run() throws {
        let payload: [UInt8]
        if let file {
            guard let text = readFile(file) else { throw ValidationError("cannot read \(file)") }
            payload = Array(text.utf8)
        } else if stdin {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(0, &chunk, chunk.count)
                if n <= 0 { break }
                bytes.append(contentsOf: chunk[..<n])
            }
            payload = bytes
        } else {
            payload = Array((message ?? "").utf8)
        }
        let qos = QoS(rawValue: qos)!
        let session = try OneShotSession(try broker.clientConfiguration())
        var delivered = false
        var refused = false
        session.onDeliver = { _ in delivered = true }
        session.onRefuse = { _ in refused = true }
        guard session.run(timeout: timeout, until: { session.client.isConnected }) else {
            throw ExitCode(1)
        }
        do { try session.client.publish(topic: topic, payload: payload, qos: qos, retain: retain) } catch {
            printError("\(error)"); throw ExitCode(1)
        }
        // QoS 0 is done once written; QoS 1 and 2 once the broker acknowledged.
        let ok = session.run(timeout: timeout) {
            qos == .atMostOnce ? session.client.session.outbound.isEmpty : delivered || refused
        }
        session.client.stop()
        if refused { throw ExitCode(1) }
        if !ok { printError("no acknowledgement from the broker in \(timeout) s"); throw ExitCode(1) }
    }
}
