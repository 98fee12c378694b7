import Foundation
import TestSupport
import Testing

/// A broker that closes the connection on packets over its limit (mosquitto's `max_packet_size`;
/// AWS IoT Core does the same at 128 KB, and on topics its policy forbids). The agent used to send
/// the refused message first again on every reconnect, about once a second, forever.
@Suite("Broker limits", .serialized)
struct BrokerLimitTests {
    static let brokerLimit = 2000 // the metrics message (QoS 0, about 700 bytes) fits; a batch of 50 does not

    /// A backlog to drain in batches of 50 readings (about 5 KB each), for a broker taking 2,000 bytes.
    /// Under MQTT 3.1.1, which cannot state the limit (a 5.0 broker's is obeyed without being
    /// configured: MQTT5EndToEndTests).
    func startWithBacklog(agentLimit: String?) throws -> (Mosquitto, Observer, AgentProcess) {
        var options = Mosquitto.Options()
        options.extraConfig = ["max_packet_size \(BrokerLimitTests.brokerLimit)"]
        options.persistence = true // the observer's session and subscription survive the restart
        let broker = try Mosquitto(options)
        let observer = try Observer(url: broker.url, persistent: true)
        #expect(observer.wait { observer.client.isConnected })
        observer.wait(seconds: 0.5) { false } // its SUBACK
        let agent = try AgentProcess(brokerPort: broker.port, interval: "20ms", extraConfig: "backfill: {rate: 1000, batch: 50}")
        let limit = agentLimit.map { "\n  max_packet_size: \($0)" } ?? ""
        try agent.amendConfig(["  keep_alive: 5s": "  keep_alive: 5s\n  version: 3.1.1\(limit)"])
        broker.stop()
        try agent.start()
        sleep(3) // about 150 readings per sensor wait in the spool
        try broker.start()
        return (broker, observer, agent)
    }

    /// Without a limit configured, the refused batches are parked after three closes each, with a
    /// log line, a count and the message kept on disk; then everything else flows.
    @Test func aMessageTheBrokerKeepsRefusingIsParkedAndTheRestFlows() throws {
        let (broker, observer, agent) = try startWithBacklog(agentLimit: nil)
        defer { broker.stop() }
        #expect(
            observer.wait(seconds: 60) { (observer.metric("parked") ?? 0) > 0 && observer.metric("backlog") == 0 },
            "\(agent.log.suffix(3000))")
        let live = observer.telemetry("air").count
        #expect(observer.wait { observer.telemetry("air").count > live + 25 }, "live readings flow")
        #expect(observer.statuses.last == "online")
        #expect(
            agent.log.contains("is parked in") && agent.log.contains("closed the connection right after it three times"),
            "\(agent.log.suffix(3000))")
        let parked = try String(contentsOfFile: agent.directory.file("spool/parked"), encoding: .utf8)
        let first = try #require(parked.split(separator: "\n").first)
        let line = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect((line["topic"] as? String)?.hasPrefix("edge/e2e/telemetry/") == true)
        #expect((line["payload"] as? [Any])?.count ?? 0 > 1, "a batch, kept as sent")
        #expect((line["bytes"] as? Int ?? 0) > BrokerLimitTests.brokerLimit)
        agent.stop(SIGTERM)
    }

    /// With the broker's limit configured, batches are cut to fit: nothing is refused, parked or lost.
    @Test func withTheLimitConfiguredBatchesFitAndEveryReadingArrives() throws {
        let (broker, observer, agent) = try startWithBacklog(agentLimit: "\(BrokerLimitTests.brokerLimit)B")
        defer { broker.stop() }
        #expect(observer.wait(seconds: 30) { observer.metric("backlog") == 0 && observer.telemetry("air").count > 150 })
        agent.stop(SIGTERM)
        observer.wait(seconds: 1) { false }
        for sensor in ["air", "soil"] {
            let seqs = Set(observer.telemetry(sensor).compactMap { $0["seq"] as? Int })
            #expect(seqs.count == (seqs.max() ?? -1) + 1, "\(sensor): \((seqs.max() ?? -1) + 1 - seqs.count) missing")
        }
        #expect(observer.metric("parked") == 0)
        #expect(observer.telemetryMessages("air").contains { $0.batch }, "the backlog still goes in batches")
        #expect(!broker.log.contains("exceeded"), "the broker refused nothing")
    }
}
