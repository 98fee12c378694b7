import Foundation
import Testing
import MQTT
import TestSupport

/// Observes a broker: subscribes to everything under `edge/` and records what arrives.
final class Observer: MQTTClientDelegate, @unchecked Sendable {
    let client: MQTTClient
    var messages: [(topic: String, payload: String, retain: Bool)] = []

    init(url: String) throws {
        var config = ClientConfiguration(brokers: [BrokerAddress(url: url)!],
                                         session: SessionConfiguration(connect: ConnectOptions(clientID: "observer-\(UInt32.random(in: 0...UInt32.max))")))
        config.subscriptions = [TopicSubscription("edge/#", qos: .atLeastOnce)]
        config.backoff = ReconnectBackoff(minimum: 50_000_000, maximum: 200_000_000)
        client = try MQTTClient(configuration: config)
        client.delegate = self
        client.start()
    }

    func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {
        messages.append((message.topicString, String(decoding: message.payload, as: UTF8.self), message.retain))
    }

    /// Drives the observer until `condition` holds or `seconds` pass.
    @discardableResult
    func wait(seconds: Double = 10, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            client.runOnce(maxWait: 20_000_000)
        }
        return condition()
    }

    func telemetry(_ sensor: String) -> [[String: Any]] {
        messages.filter { $0.topic == "edge/e2e/telemetry/\(sensor)" }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]
        }
    }

    var statuses: [String] {
        messages.filter { $0.topic == "edge/e2e/status" }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["state"] as? String
        }
    }
}

/// The agent binary run as a child process with a config written for the test.
final class AgentProcess {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("edge-agent").path
    }

    let directory = TemporaryDirectory("agent-e2e")
    var process: ChildProcess?

    init(brokerPort: UInt16, durability: String = "interval", interval: String = "200ms", extraConfig: String = "") throws {
        try """
            device_id: e2e
            mqtt:
              brokers: [mqtt://127.0.0.1:\(brokerPort)]
              keep_alive: 5s
              reconnect_min: 100ms
              reconnect_max: 300ms
            spool:
              dir: \(directory.file("spool"))
              capacity: 4MiB
              durability: \(durability)
              sync_interval: 100ms
            metrics_interval: 500ms
            sensors:
              - {name: air, driver: simulated, interval: \(interval)}
              - {name: soil, driver: simulated, interval: \(interval)}
            \(extraConfig)
            """.write(toFile: directory.file("config.yaml"), atomically: true, encoding: .utf8)
    }

    func start(environment: [String: String] = [:]) throws {
        process = try ChildProcess(Self.binary, ["run", "--config", directory.file("config.yaml")],
                                   stderr: directory.file("agent-\(UInt32.random(in: 0...UInt32.max)).log"), environment: environment)
    }

    func stop(_ signal: Int32) {
        process?.signal(signal)
        process?.wait()
        process = nil
    }

    deinit { stop(SIGKILL) }
}

@Suite("The agent against mosquitto", .serialized)
struct EndToEndTests {
    @Test func telemetryStatusAndCleanShutdown() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port)
        try agent.start()
        #expect(observer.wait { observer.telemetry("air").count >= 3 && observer.telemetry("soil").count >= 3 })
        #expect(observer.statuses.first == "online")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        for reading in observer.telemetry("air") {
            #expect(reading["seq"] is Int)
            let ts = reading["ts"] as? Int64 ?? 0
            #expect(ts > before - 60_000 && ts <= before + 1000)  // UTC milliseconds, now
            let temperature = reading["temperature_c"] as? Double ?? -999
            #expect(temperature > 10 && temperature < 35)
            #expect(reading["humidity_pct"] is Double && reading["pressure_hpa"] is Double)
        }
        let seqs = (observer.telemetry("air") + observer.telemetry("soil")).compactMap { $0["seq"] as? Int }
        #expect(Set(seqs).count == seqs.count)  // unique: consumers can drop duplicates by seq
        agent.stop(SIGTERM)
        #expect(observer.wait { observer.statuses.last == "offline" })
        // Retained: a newcomer sees the last status.
        let late = try Observer(url: broker.url)
        #expect(late.wait { late.statuses == ["offline"] })
        #expect(late.messages.first { $0.topic == "edge/e2e/status" }?.retain == true)
    }

    @Test func metricsArePublishedPeriodically() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port)
        try agent.start()
        let metrics = { observer.messages.filter { $0.topic == "edge/e2e/metrics" } }
        #expect(observer.wait { metrics().count >= 2 })
        let last = try #require(try JSONSerialization.jsonObject(with: Data(metrics().last!.payload.utf8)) as? [String: Any])
        for key in ["ts", "uptime_s", "spool_records", "spool_bytes", "dropped", "discarded_bytes", "corrupt_records", "reconnects"] {
            #expect(last[key] is Int, "\(key) in \(last)")
        }
        let latency = try #require(last["publish_latency_ms"] as? [String: Any])
        #expect((latency["count"] as? Int ?? 0) > 0)
        let sensors = try #require(last["sensors"] as? [String: [String: Int]])
        #expect((sensors["air"]?["readings"] ?? 0) > 0 && sensors["air"]?["errors"] == 0)
        agent.stop(SIGTERM)
    }

    @Test func lastWillSaysOfflineAfterSIGKILL() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port)
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] })
        agent.stop(SIGKILL)
        #expect(observer.wait { observer.statuses == ["online", "offline"] })
    }

    @Test func outageIsBackfilledInOrderWithOriginalTimestamps() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port)
        try agent.start()
        var observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 2 })
        broker.stop()
        let outageStart = Int64(Date().timeIntervalSince1970 * 1000)
        usleep(2_000_000)  // about ten readings per sensor while the broker is away
        let outageEnd = Int64(Date().timeIntervalSince1970 * 1000)
        try broker.start()
        observer = try Observer(url: broker.url)
        #expect(observer.wait(seconds: 15) {
            observer.telemetry("air").contains { ($0["ts"] as? Int64 ?? 0) > outageEnd + 500 }
        })
        let air = observer.telemetry("air")
        let seqs = air.compactMap { $0["seq"] as? Int }
        #expect(seqs == seqs.sorted())  // in order per sensor
        let duringOutage = air.filter { let ts = $0["ts"] as? Int64 ?? 0; return ts > outageStart + 300 && ts < outageEnd - 300 }
        #expect(duringOutage.count >= 5)  // readings taken during the outage arrive with their own timestamps
        agent.stop(SIGTERM)
    }

    @Test func sigkillDuringAnOutageLosesNothingTheSpoolPromised() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, durability: "always")
        try agent.start()
        var observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 2 })
        broker.stop()
        usleep(1_500_000)
        agent.stop(SIGKILL)  // every reading was fdatasync'd (durability: always)
        let killedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try broker.start()
        observer = try Observer(url: broker.url)
        try agent.start()
        #expect(observer.wait(seconds: 15) {
            observer.telemetry("air").contains { ($0["ts"] as? Int64 ?? 0) > killedAt + 300 }
        })
        // The first session's readings and the second's form one unbroken run of spool sequence numbers.
        let seqs = (observer.telemetry("air") + observer.telemetry("soil")).compactMap { $0["seq"] as? Int }.sorted()
        let first = seqs.first ?? 0
        let missing = Set(first...(seqs.last ?? 0)).subtracting(seqs)
        // Readings delivered before the outage were acknowledged and are not sent again, so the
        // observer (which joined after the outage) sees everything from the cursor on.
        #expect(missing.isEmpty, "missing sequence numbers: \(missing.sorted())")
        #expect(seqs.count >= 10)
        agent.stop(SIGTERM)
    }
}
