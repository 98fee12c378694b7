import Foundation
import MQTT
import TestSupport
import Testing

/// The agent speaking MQTT 5.0 to mosquitto: what 5.0 lets it do that 3.1.1 could not.
@Suite("MQTT 5.0 against mosquitto", .serialized)
struct MQTT5EndToEndTests {
    func agent(_ broker: UInt16, version: String = "5", interval: String = "200ms", extraMQTT: String = "", extraConfig: String = "") throws
        -> AgentProcess
    {
        let agent = try AgentProcess(brokerPort: broker, interval: interval, extraConfig: extraConfig)
        try agent.amendConfig(["  keep_alive: 5s\n": "  keep_alive: 5s\n  version: \(version)\n\(extraMQTT)"])
        return agent
    }

    @Test func aRefusedMessageIsParkedAtOnceWithoutADisconnect() throws {
        var options = Mosquitto.Options()
        let acl = TemporaryDirectory("acl")
        try "topic readwrite #\ntopic deny edge/e2e/telemetry/soil\n".write(toFile: acl.file("acl"), atomically: true, encoding: .utf8)
        options.extraConfig = ["acl_file \(acl.file("acl"))"]
        let broker = try Mosquitto(options)
        let observer = try Observer(url: broker.url, version: .v5)
        let agent = try agent(broker.port, extraConfig: "telemetry: {expiry: 1h}")
        try agent.start()
        #expect(observer.wait { (observer.metric("parked") ?? 0) >= 3 && observer.telemetry("air").count >= 5 })
        #expect(observer.telemetry("soil").isEmpty)
        #expect(observer.metric("reconnects") == 0) // refused in PUBACK: the connection never dropped
        #expect(agent.log.contains("the broker refused it: not authorized (0x87)"))
        let metrics = observer.messages.last { $0.topic == "edge/e2e/metrics" }?.payload ?? ""
        #expect(metrics.contains(#""refused":{"not_authorized":"#))
        #expect(observer.contentType["edge/e2e/telemetry/air"] == "application/json")
        // The broker passes the interval on, less the time it held the message (about none).
        #expect((3595...3600).contains(observer.expiry["edge/e2e/telemetry/air"] ?? 0))
        #expect(observer.expiry["edge/e2e/status"] == nil) // readings only
        agent.stop(SIGTERM)
    }

    @Test func theBrokersPacketLimitCutsTheBatchesWithNoneConfigured() throws {
        var options = Mosquitto.Options()
        options.extraConfig = ["max_packet_size 2048"]
        options.persistence = true // the observer's session, and what it missed, outlive the restart
        let broker = try Mosquitto(options)
        let observer = try Observer(url: broker.url, persistent: true)
        let agent = try agent(broker.port, interval: "50ms", extraConfig: "backfill: {batch: 100, rate: 1000}")
        try agent.start()
        #expect(observer.wait { observer.statuses.last == "online" })
        broker.stop()
        Thread.sleep(forTimeInterval: 3) // some 120 readings wait in the spool
        try broker.start()
        #expect(
            observer.wait(seconds: 20) { observer.telemetryMessages("air").contains(where: \.batch) && observer.metric("backlog") == 0 })
        let batches = observer.messages.filter { $0.topic.hasPrefix("edge/e2e/telemetry/") && $0.payload.hasPrefix("[") }
        #expect(batches.count >= 4)
        #expect(batches.allSatisfy { $0.payload.utf8.count < 2048 - 100 })
        #expect(observer.metric("parked") == 0)
        #expect(!agent.log.contains("parked") && !agent.log.contains("too large"), "\(agent.log)")
        let seqs = observer.telemetry("air").compactMap { $0["seq"] as? Int }
        #expect(Set(seqs).count == (seqs.max() ?? 0) + 1) // nothing lost
        agent.stop(SIGTERM)
    }

    @Test func aShortLinkCutShowsNoOfflineUnder5AndDoesUnder311() throws {
        let broker = try Mosquitto()
        for version in ["5", "3.1.1"] {
            let link = LinkProxy(to: broker.port)
            let observer = try Observer(url: broker.url)
            let agent = try agent(link.port, version: version)
            try agent.start()
            #expect(observer.wait { observer.statuses.last == "online" })
            link.cut()
            Thread.sleep(forTimeInterval: 5)
            link.restore()
            #expect(observer.wait(seconds: 15) { agent.log.components(separatedBy: "connected to").count == 3 }, "\(agent.log)")
            observer.wait(seconds: 2) { false }
            if version == "5" {
                #expect(!observer.statuses.contains("offline"), "the will waits out the cut (will_delay 30s)")
            } else {
                // mosquitto notices the cut at once (the proxy closes its socket) and publishes the will.
                #expect(observer.statuses.contains("offline"))
            }
            agent.stop(SIGTERM)
        }
    }

    @Test func anExpiredRequestNeverRunsAndAResponseTopicIsAnswered() throws {
        var options = Mosquitto.Options()
        options.persistence = false
        let broker = try Mosquitto(options)
        let observer = try Observer(url: broker.url, version: .v5, also: ["app/#"])
        let agent = try agent(broker.port, interval: "1s")
        try agent.start()
        #expect(observer.wait { observer.statuses.last == "online" })
        // Request/response: the reply goes to the Response Topic with the Correlation Data.
        var request = PropertyBuilder()
        request.string(PropertyID.responseTopic, "app/replies/7")
        request.data(PropertyID.correlationData, [0xC0, 0xFF, 0xEE])
        try publish(observer, "edge/e2e/cmd/ping", "{}", properties: request.bytes)
        #expect(observer.wait { observer.messages.contains { $0.topic == "app/replies/7" } })
        #expect(observer.correlation["app/replies/7"] == [0xC0, 0xFF, 0xEE])
        #expect(observer.messages.first { $0.topic == "app/replies/7" }?.payload.contains(#""pong":true"#) == true)
        // Away for 10 s: a request that expires after 2 s is dropped by the broker, one without
        // an expiry waits in the session and runs when the agent is back.
        agent.stop(SIGTERM)
        var expiring = PropertyBuilder()
        expiring.uint32(PropertyID.messageExpiryInterval, 2)
        try publish(observer, "edge/e2e/cmd/read", #"{"id":"late","sensor":"air"}"#, properties: expiring.bytes)
        try publish(observer, "edge/e2e/cmd/read", #"{"id":"kept","sensor":"air"}"#, properties: [])
        observer.wait(seconds: 10) { false }
        try agent.start()
        #expect(observer.wait { observer.replies("read").contains { $0["id"] as? String == "kept" } })
        observer.wait(seconds: 2) { false }
        #expect(!observer.replies("read").contains { $0["id"] as? String == "late" })
        agent.stop(SIGTERM)
    }

    @Test func lingerSendsASensorsReadingsTogetherAndDelaysNothingElse() throws {
        let broker = try Mosquitto()
        let observer = try Observer(url: broker.url)
        let agent = try agent(broker.port, interval: "200ms", extraMQTT: "  linger: 2s\n  state_topics: true\n")
        try agent.start()
        #expect(observer.wait(seconds: 15) { observer.telemetryMessages("air").filter(\.batch).count >= 3 })
        let messages = observer.telemetryMessages("air").filter(\.batch)
        #expect(messages.allSatisfy { $0.readings.count >= 5 }, "\(messages.map(\.readings.count))")
        for (a, b) in zip(messages, messages.dropFirst()) { #expect(b.at.timeIntervalSince(a.at) > 1.5) }
        // State topics go as readings are taken: several between two lingered messages.
        let states = observer.messages.filter { $0.topic == "edge/e2e/state/air" }
        #expect(states.count >= 3 * 5)
        // Commands too.
        let sent = Date()
        try observer.send("ping", "{}")
        #expect(observer.wait { !observer.replies("ping").isEmpty })
        #expect(Date().timeIntervalSince(sent) < 1.5)
        let seqs = observer.telemetry("air").compactMap { $0["seq"] as? Int }
        #expect(seqs == Array(0..<seqs.count)) // in order, none lost
        agent.stop(SIGTERM)
    }

    /// A refused subscription is logged with the broker's reason (the agent would get no commands).
    @Test func aRefusedSubscriptionIsLoggedWithItsReason() throws {
        let build = TemporaryDirectory("plugin")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/mosquitto-deny-subscribe.c").standardized.path
        _ = try run("gcc", ["-shared", "-fPIC", "-o", build.file("deny.so"), source])
        var options = Mosquitto.Options()
        options.extraConfig = ["plugin \(build.file("deny.so"))"] // refuses filters under denied/
        let broker = try Mosquitto(options)
        let agent = try agent(broker.port, extraMQTT: "  topic_prefix: denied\n")
        try agent.start()
        #expect(
            waitUntil(seconds: 10) {
                agent.log.contains("the broker refused the subscription to denied/e2e/cmd/# (refused: not authorized (0x87))")
            },
            "\(agent.log)")
        agent.stop(SIGTERM)
    }

    /// `edge-agent pub -V 5` reports what the broker said: a refusal fails the command.
    @Test func pubAndSubSpeakFive() throws {
        var options = Mosquitto.Options()
        let acl = TemporaryDirectory("acl")
        try "topic readwrite a/#\n".write(toFile: acl.file("acl"), atomically: true, encoding: .utf8)
        options.extraConfig = ["acl_file \(acl.file("acl"))"]
        let broker = try Mosquitto(options)
        let scratch = TemporaryDirectory("cli")
        let sub = try ChildProcess(
            AgentProcess.binary, ["sub", "-V", "5", "-p", "\(broker.port)", "-h", "127.0.0.1", "-t", "a/#", "-C", "1", "-W", "10"],
            stdout: scratch.file("sub"))
        Thread.sleep(forTimeInterval: 0.5)
        let base = ["pub", "-V", "5", "-p", "\(broker.port)", "-h", "127.0.0.1", "-q", "1"]
        let ok = try ChildProcess(AgentProcess.binary, base + ["-t", "a/b", "-m", "hello"])
        #expect(ok.wait() == 0)
        let denied = try ChildProcess(AgentProcess.binary, base + ["-t", "b/c", "-m", "no"], stderr: scratch.file("denied"))
        #expect(denied.wait() != 0)
        #expect(try String(contentsOfFile: scratch.file("denied"), encoding: .utf8).contains("not authorized (0x87)"))
        #expect(sub.wait() == 0)
        #expect(try String(contentsOfFile: scratch.file("sub"), encoding: .utf8) == "hello\n")
    }

    private func publish(_ observer: Observer, _ topic: String, _ payload: String, properties: [UInt8]) throws {
        let before = observer.delivered
        try Array(payload.utf8).withUnsafeBytes {
            _ = try observer.client.publish(topic: topic, payload: $0, qos: .atLeastOnce, properties: MessageProperties(block: properties))
        }
        #expect(observer.wait { observer.delivered > before })
    }
}
