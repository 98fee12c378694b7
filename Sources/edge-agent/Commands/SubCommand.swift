import Agent
import ArgumentParser
import MQTT

#if canImport(Glibc)
import Glibc
#endif

/// `edge-agent sub`: print messages, like mosquitto_sub.
struct SubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sub", abstract: "Subscribe and print messages (like mosquitto_sub).")

    @OptionGroup var broker: BrokerOptions

    @Option(name: [.customShort("t"), .long], help: "Topic filter (repeatable).")
    var topic: [String]

    @Option(name: [.customShort("q"), .long], help: "QoS: 0, 1 or 2.")
    var qos: UInt8 = 1

    @Flag(name: [.customShort("v"), .long], help: "Print the topic before each payload.")
    var verbose = false

    @Option(name: [.customShort("C"), .customLong("count")], help: "Exit after this many messages.")
    var count: Int?

    @Option(name: [.customShort("W"), .customLong("timeout")], help: "Exit after this many seconds.")
    var timeout: Double?

    @Flag(name: .customLong("retained-only"), help: "Ignore messages that are not retained.")
    var retainedOnly = false

    func validate() throws {
        guard let qos = QoS(rawValue: qos) else { throw ValidationError("--qos must be 0, 1 or 2") }
        for t in topic { if let problem = Topic.validateFilter(t) { throw ValidationError("\(problem)") } }
        _ = qos
    }

    func run() throws {
        var config = try broker.clientConfiguration()
        config.subscriptions = topic.map { TopicSubscription($0, qos: QoS(rawValue: qos)!) }
        let session = try OneShotSession(config)
        session.giveUpOnError = false // a subscriber rides out broker restarts
        var received = 0
        var failed = false
        session.onSubscribe = { results in
            for (filter, result) in zip(topic, results) where result.isFailure {
                printError("subscription to \(filter): \(result.explanation)")
                failed = true
            }
        }
        session.onMessage = { message in
            if retainedOnly && !message.retain { return }
            var line = verbose ? message.topicString + " " : ""
            line += String(decoding: message.payload, as: UTF8.self) + "\n"
            writeOut(line)
            received += 1
        }
        _ = session.run(timeout: timeout) { failed || (count.map { received >= $0 } ?? false) }
        session.client.stop()
        if failed { throw ExitCode(1) }
        if let count, received < count { throw ExitCode(27) } // as mosquitto_sub's timeout
    }
}
