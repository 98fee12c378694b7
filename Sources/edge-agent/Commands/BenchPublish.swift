import ArgumentParser
import MQTT

/// `edge-agent bench publish`: N messages as fast as the in-flight window allows.
struct BenchPublish: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish N messages as fast as the window allows.")

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Messages to publish.")
    var count = 100_000

    @Option(help: "Payload size in bytes.")
    var size = 64

    @Option(help: "QoS: 0, 1 or 2.")
    var qos: UInt8 = 1

    @Option(help: "In-flight window (QoS 1 and 2).")
    var inflight = 32

    @Option(help: "Topic.")
    var topic = "edge-agent/bench"

    @Flag(help: "MQTT 5.0: send the properties the agent sends (JSON's Content Type, a Topic Alias).")
    var agentProperties = false

    func validate() throws {
        guard QoS(rawValue: qos) != nil else { throw ValidationError("--qos must be 0, 1 or 2") }
        guard count > 0, size >= 0, inflight > 0, inflight < 65_535 else { throw ValidationError("count and inflight must be positive") }
    }

    func run() throws {
        let qos = QoS(rawValue: qos)!
        let session = try OneShotSession(try broker.clientConfiguration(maxInflight: inflight))
        var delivered = 0
        session.onDeliver = { _ in delivered += 1 }
        guard session.run(timeout: 10, until: { session.client.isConnected }) else { throw ExitCode(1) }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 8)
        defer { payload.deallocate() }
        for i in 0..<size { payload[i] = UInt8(truncatingIfNeeded: i) }
        let body = UnsafeRawBufferPointer(rebasing: payload[0..<size])
        let client = session.client
        // Checked once, as the agent does for its sensors' topics. The options are read into
        // locals: a property wrapper's getter in the loop cost more than a publish's encoding.
        let topic: ValidatedTopic
        let properties = agentProperties ? MessageProperties.json(aliasable: true) : .none
        do { topic = try ValidatedTopic(self.topic, properties: properties) } catch { throw ValidationError("--topic: \(error)") }
        let count = self.count
        var sent = 0
        let start = MonotonicClock.now()
        // The steady-state loop: publish until the window is full, then one flush and one poll.
        let finished = session.run(timeout: nil) {
            while sent < count {
                do throws(PublishRefusal) { try client.publish(topic: topic, payload: body, qos: qos) } catch { break }
                sent += 1
                if qos == .atMostOnce {
                    delivered += 1
                    if client.session.outbound.readableBytes > 64 * 1024 { client.flush() }
                }
            }
            return delivered >= count && client.session.outbound.isEmpty
        }
        let seconds = Double(MonotonicClock.now() - start) / 1e9
        client.stop()
        guard finished else { throw ExitCode(1) }
        let rate = Double(count) / seconds
        print("published \(count) messages in \(format(seconds, 3)) s: \(Int(rate.rounded())) msg/s")
    }
}
