import Foundation
import MQTT
import TestSupport
import Testing

/// Observes a broker: subscribes to everything under `edge/` and records what arrives.
final class Observer: MQTTClientDelegate, @unchecked Sendable {
    let client: MQTTClient
    var messages: [(topic: String, payload: String, retain: Bool, at: Date)] = []
    /// 5.0: the Correlation Data and Content Type of the newest message on each topic.
    var correlation: [String: [UInt8]] = [:]
    var contentType: [String: String] = [:]
    var expiry: [String: UInt32] = [:]
    /// Acknowledgements of what the observer published.
    var delivered = 0

    /// `persistent`: a session the broker keeps (with its persistence, across a restart), so that
    /// nothing published while the observer reconnects is missed.
    init(url: String, persistent: Bool = false, version: ProtocolVersion = .v311, also: [String] = []) throws {
        var connect = ConnectOptions(clientID: "observer-\(UInt32.random(in: 0...UInt32.max))", cleanSession: !persistent)
        connect.version = version
        if persistent && version == .v5 { connect.sessionExpiry = 3600 }
        var config = ClientConfiguration(brokers: [BrokerAddress(url: url)!], session: SessionConfiguration(connect: connect))
        config.subscriptions = ([TopicSubscription("edge/#", qos: .atLeastOnce)] + also.map { TopicSubscription($0, qos: .atLeastOnce) })
        config.backoff = ReconnectBackoff(minimum: 50_000_000, maximum: 200_000_000)
        client = try MQTTClient(configuration: config)
        client.delegate = self
        client.start()
    }

    func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {
        messages.append((message.topicString, String(decoding: message.payload, as: UTF8.self), message.retain, Date()))
        correlation[message.topicString] = message.properties.value(PropertyID.correlationData).map(Array.init)
        contentType[message.topicString] = message.properties.string(PropertyID.contentType)
        expiry[message.topicString] = message.properties.uint32(PropertyID.messageExpiryInterval)
    }

    func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) { delivered += 1 }

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

    /// The readings of a sensor in arrival order; a backfill batch (a JSON array) counts as its elements.
    func telemetry(_ sensor: String) -> [[String: Any]] {
        telemetryMessages(sensor).flatMap(\.readings)
    }

    func telemetryMessages(_ sensor: String) -> [(readings: [[String: Any]], at: Date, batch: Bool)] {
        messages.filter { $0.topic == "edge/e2e/telemetry/\(sensor)" }.compactMap {
            let value = try? JSONSerialization.jsonObject(with: Data($0.payload.utf8))
            if let object = value as? [String: Any] { return ([object], $0.at, false) }
            if let array = value as? [[String: Any]] { return (array, $0.at, true) }
            return nil
        }
    }

    /// A number from the newest metrics message, nil if there is none or it lacks the key.
    func metric(_ key: String) -> Int? {
        let last = messages.last { $0.topic == "edge/e2e/metrics" }
        let object = last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any] }
        return object?[key] as? Int
    }

    var statuses: [String] {
        messages.filter { $0.topic == "edge/e2e/status" }.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["state"] as? String
        }
    }
}

/// The agent binary run as a child process with a config written for the test.
final class AgentProcess {
    /// The binary next to the tests, or EDGE_AGENT_BINARY (to see a test fail against an older build).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["EDGE_AGENT_BINARY"] { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("edge-agent").path
    }

    let directory = TemporaryDirectory("agent-e2e")
    var process: ChildProcess?

    init(
        brokerPort: UInt16, durability: String = "interval", interval: String = "200ms", extraConfig: String = "",
        mode: String = "write-ahead"
    ) throws {
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
          mode: \(mode)
        metrics_interval: 500ms
        sensors:
          - {name: air, driver: simulated, interval: \(interval)}
          - {name: soil, driver: simulated, interval: \(interval)}
        \(extraConfig)
        """.write(toFile: directory.file("config.yaml"), atomically: true, encoding: .utf8)
    }

    /// Changes the configuration before a start: `replacing` maps lines of the default to others.
    func amendConfig(_ replacing: [String: String]) throws {
        var config = try String(contentsOfFile: directory.file("config.yaml"), encoding: .utf8)
        for (old, new) in replacing { config = config.replacingOccurrences(of: old, with: new) }
        try config.write(toFile: directory.file("config.yaml"), atomically: true, encoding: .utf8)
    }

    /// Each start logs to its own file; `log` is the latest one's.
    private(set) var logPath: String?

    func start(environment: [String: String] = [:]) throws {
        let path = directory.file("agent-\(UInt32.random(in: 0...UInt32.max)).log")
        process = try ChildProcess(Self.binary, ["run", "--config", directory.file("config.yaml")], stderr: path, environment: environment)
        logPath = path
    }

    var log: String { logPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

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
            #expect(ts > before - 60_000 && ts <= before + 1000) // UTC milliseconds, now
            let temperature = reading["temperature_c"] as? Double ?? -999
            #expect(temperature > 10 && temperature < 35)
            #expect(reading["humidity_pct"] is Double && reading["pressure_hpa"] is Double)
        }
        // Each sensor numbers its own readings from 0, with no gap and no repeat.
        for sensor in ["air", "soil"] {
            let seqs = observer.telemetry(sensor).compactMap { $0["seq"] as? Int }
            #expect(seqs == Array(0..<seqs.count), "\(sensor): \(seqs)")
        }
        agent.stop(SIGTERM)
        #expect(observer.wait { observer.statuses.last == "offline" })
        // Retained: a newcomer sees the last status.
        let late = try Observer(url: broker.url)
        #expect(late.wait { late.statuses == ["offline"] })
        #expect(late.messages.first { $0.topic == "edge/e2e/status" }?.retain == true)
        // After a clean restart each sensor's sequence continues where it stopped.
        let last = observer.telemetry("air").compactMap { $0["seq"] as? Int }.max() ?? -1
        try agent.start()
        #expect(late.wait { !late.telemetry("air").isEmpty })
        #expect(late.telemetry("air").first?["seq"] as? Int == last + 1)
        agent.stop(SIGTERM)
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
        for key in [
            "ts", "uptime_s", "spool_records", "spool_bytes", "backlog", "dropped", "discarded_bytes", "corrupt_records", "reconnects",
        ] {
            #expect(last[key] is Int, "\(key) in \(last)")
        }
        let latency = try #require(last["publish_latency_ms"] as? [String: Any])
        #expect((latency["count"] as? Int ?? 0) > 0)
        let sensors = try #require(last["sensors"] as? [String: [String: Int]])
        #expect((sensors["air"]?["readings"] ?? 0) > 0 && sensors["air"]?["errors"] == 0)
        agent.stop(SIGTERM)
    }

    /// Under 5.0 the broker waits `will_delay` before it publishes the will (30 s by default).
    @Test func lastWillSaysOfflineAfterSIGKILL() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port)
        try agent.amendConfig(["  keep_alive: 5s": "  keep_alive: 5s\n  will_delay: 2s"])
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] })
        let killed = Date()
        agent.stop(SIGKILL)
        #expect(observer.wait { observer.statuses == ["online", "offline"] })
        let offlineAt = observer.messages.last { $0.topic == "edge/e2e/status" }?.at ?? killed
        #expect(offlineAt.timeIntervalSince(killed) >= 1.9, "the will waited its delay")
    }

    /// Readings taken while the broker was away arrive afterwards with their own timestamps, oldest
    /// first, at the backfill rate, while new readings keep arriving live.
    @Test(arguments: ["write-ahead", "spill"])
    func outageIsBackfilledInOrderAtItsRateWhileLiveReadingsFlow(mode: String) throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, extraConfig: "backfill: {rate: 5}", mode: mode)
        try agent.start()
        var observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 2 })
        let lastSeen = observer.telemetry("air").compactMap { $0["seq"] as? Int }.max() ?? 0
        broker.stop()
        let outageStart = Int64(Date().timeIntervalSince1970 * 1000)
        // The outage lasts until the spool holds the backlog the checks below look for.
        #expect(waitForSpooled(agent, sensor: "air", above: lastSeen, count: 14))
        let outageEnd = Int64(Date().timeIntervalSince1970 * 1000)
        try broker.start()
        observer = try Observer(url: broker.url)
        // The first reading taken once the broker was surely gone. (Readings the old broker took
        // and acknowledged just before it stopped are delivered, as far as the agent can know, and
        // may never have reached the old observer: they are not looked for.)
        func firstOfOutage() -> Int? {
            observer.telemetry("air").filter { ($0["ts"] as? Int64 ?? 0) > outageStart + 300 }.compactMap { $0["seq"] as? Int }.min()
        }
        // The backlog (14 readings or more of each of two sensors) drains at 5 a second: several seconds.
        #expect(
            observer.wait(seconds: 20) {
                // Drained: live readings after the outage, and no hole from the outage's first on.
                guard let first = firstOfOutage() else { return false }
                let air = observer.telemetry("air")
                let seqs = Set(air.compactMap { $0["seq"] as? Int })
                return air.contains { ($0["ts"] as? Int64 ?? 0) > outageEnd + 300 }
                    && seqs.isSuperset(of: first...max(first + 11, seqs.max() ?? first))
            })
        let air = observer.telemetry("air")
        let backlog = air.filter { ($0["ts"] as? Int64 ?? 0) < outageEnd }
        let live = air.filter { ($0["ts"] as? Int64 ?? 0) > outageEnd + 300 }
        let backlogSeqs = backlog.compactMap { $0["seq"] as? Int }
        #expect(backlogSeqs == backlogSeqs.sorted(), "the backlog arrives oldest first")
        #expect(live.compactMap { $0["seq"] as? Int } == live.compactMap { $0["seq"] as? Int }.sorted())
        let duringOutage = backlog.filter { ($0["ts"] as? Int64 ?? 0) > outageStart + 300 && ($0["ts"] as? Int64 ?? 0) < outageEnd - 300 }
        #expect(duringOutage.count >= 5, "readings taken during the outage arrive with their own timestamps")
        // Nothing missing: from the outage on, the sensor's numbers run without a hole.
        let all = Set(air.compactMap { $0["seq"] as? Int })
        let first = firstOfOutage() ?? 0
        let expected = Set(first...(all.max() ?? first))
        #expect(all.isSuperset(of: expected), "missing: \(expected.subtracting(all).sorted())")
        // Live readings arrived while the backlog was still draining.
        let messages = observer.telemetryMessages("air")
        let lastBacklog = messages.lastIndex { $0.readings.contains { ($0["ts"] as? Int64 ?? 0) < outageEnd } } ?? 0
        let firstLive = messages.firstIndex { $0.readings.contains { ($0["ts"] as? Int64 ?? 0) > outageEnd + 300 } } ?? .max
        #expect(firstLive < lastBacklog, "a live reading came before the backlog's last")
        // The rate holds: 28 readings or more at 5/s (a burst of 1 allowed) take well over two seconds.
        let backlogTimes = messages.filter { $0.readings.contains { ($0["ts"] as? Int64 ?? 0) < outageEnd } }.map(\.at)
        if let first = backlogTimes.first, let last = backlogTimes.last {
            #expect(last.timeIntervalSince(first) > 2.0, "backlog drained in \(last.timeIntervalSince(first)) s")
        }
        agent.stop(SIGTERM)
    }

    /// With a batch size, the backlog goes out as JSON arrays of one sensor's readings, in order.
    @Test func backlogIsBatched() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, extraConfig: "backfill: {rate: 100, batch: 8}")
        try agent.start()
        var observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 2 })
        let lastSeen = observer.telemetry("air").compactMap { $0["seq"] as? Int }.max() ?? 0
        broker.stop()
        let outageStart = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(waitForSpooled(agent, sensor: "air", above: lastSeen, count: 12)) // a batch of 8, and more
        try broker.start()
        observer = try Observer(url: broker.url)
        #expect(
            observer.wait(seconds: 15) {
                let readings = observer.telemetry("air")
                guard let first = readings.filter({ ($0["ts"] as? Int64 ?? 0) > outageStart + 300 }).compactMap({ $0["seq"] as? Int }).min()
                else { return false }
                return Set(readings.compactMap { $0["seq"] as? Int }).isSuperset(of: first...(first + 8))
            })
        let batches = observer.telemetryMessages("air").filter(\.batch)
        #expect(!batches.isEmpty)
        for batch in batches {
            let seqs = batch.readings.compactMap { $0["seq"] as? Int }
            #expect(seqs.count >= 2 && seqs.count <= 8)
            #expect(seqs == Array(seqs[0]..<(seqs[0] + seqs.count)), "one sensor's readings, in order: \(seqs)")
        }
        agent.stop(SIGTERM)
    }

    @Test(arguments: ["write-ahead", "spill"])
    func sigkillDuringAnOutageLosesNothingTheSpoolPromised(mode: String) throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, durability: "always", extraConfig: "backfill: {rate: 1000}", mode: mode)
        try agent.start()
        var observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 2 })
        let lastSeen = observer.telemetry("air").compactMap { $0["seq"] as? Int }.max() ?? 0
        broker.stop()
        #expect(waitForSpooled(agent, sensor: "air", above: lastSeen, count: 6))
        agent.stop(SIGKILL) // every reading was fdatasync'd (durability: always)
        let killedAt = Int64(Date().timeIntervalSince1970 * 1000)
        let promised = try spoolDump(agent.directory.file("spool"))
        #expect(promised.count >= 10)
        try broker.start()
        observer = try Observer(url: broker.url)
        try agent.start()
        #expect(
            observer.wait(seconds: 15) {
                observer.telemetry("air").contains { ($0["ts"] as? Int64 ?? 0) > killedAt + 300 }
            })
        for sensor in ["air", "soil"] {
            let got = Set(observer.telemetry(sensor).compactMap { $0["seq"] as? Int })
            let expected = Set(promised.filter { $0.topic == "telemetry/\(sensor)" }.map(\.seq))
            #expect(expected.isSubset(of: got), "\(sensor) lost \(expected.subtracting(got).sorted())")
            // The numbers run on within each session; the restart after a crash jumps to the next
            // multiple of 1024 (numbers are reserved ahead), so none is ever used twice.
            let sorted = got.sorted()
            let breaks = zip(sorted, sorted.dropFirst()).filter { $1 != $0 + 1 }
            #expect(breaks.count <= 1 && breaks.allSatisfy { $0.1 % 1024 == 0 }, "\(sensor): \(sorted)")
        }
        agent.stop(SIGTERM)
    }

    /// In spill mode a reading the broker does not acknowledge in time (here: a broker frozen
    /// with SIGSTOP, its connection still open) is written to the spool, so a crash then loses it not.
    @Test func spillModeWritesWhatIsNotAcknowledgedInTime() throws {
        let broker = try Mosquitto()
        defer { broker.signal(SIGCONT); broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, durability: "always", mode: "spill")
        try agent.start()
        let observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 3 })
        let last = observer.telemetry("air").compactMap { $0["seq"] as? Int }.max() ?? 0
        broker.signal(SIGSTOP)
        // Published, never acknowledged: spilled to the spool after 100 ms.
        #expect(waitForSpooled(agent, sensor: "air", above: last, count: 3))
        agent.stop(SIGKILL)
        broker.signal(SIGCONT)
        let kept = try spoolDump(agent.directory.file("spool")).filter { $0.topic == "telemetry/air" }.map(\.seq)
        #expect(Set(kept).isSuperset(of: (last + 1)...(last + 3)), "spooled: \(kept)")
    }

    /// In spill mode a reading the broker acknowledges in time never touches the disk.
    @Test func spillModeWritesNothingWhileTheBrokerKeepsUp() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port, mode: "spill")
        try agent.start()
        let observer = try Observer(url: broker.url)
        #expect(observer.wait { observer.telemetry("air").count >= 10 && observer.telemetry("soil").count >= 10 })
        agent.stop(SIGTERM)
        #expect(try spoolDump(agent.directory.file("spool")).isEmpty)
        // Only the readings taken before the first connection (a few milliseconds) were written:
        // `next to append N` counts every record the spool ever took.
        let text = try run(AgentProcess.binary, ["spool", "status", "--dir", agent.directory.file("spool")])
        let appended = text.split(separator: "\n").first { $0.contains("next to append") }.flatMap {
            Int($0.split(separator: " ").last ?? "")
        }
        #expect((appended ?? .max) <= 4, "\(text)")
    }
}

/// `edge-agent spool dump`: what the spool holds, as (topic, seq in the payload).
/// Waits until the running agent's spool holds at least `count` readings of `sensor` numbered above
/// `above`, read from a copy of the spool (the agent holds its lock): what an outage must have built
/// up before a test goes on, instead of a fixed sleep that a slow machine can outrun.
func waitForSpooled(_ agent: AgentProcess, sensor: String, above: Int, count: Int, seconds: Double = 20) -> Bool {
    waitUntil(seconds: seconds) {
        let copy = TemporaryDirectory("spool-copy")
        guard (try? run("cp", ["-r", agent.directory.file("spool"), copy.path + "/spool"])) != nil,
            let records = try? spoolDump(copy.path + "/spool")
        else { return false }
        return records.filter { $0.topic == "telemetry/\(sensor)" && $0.seq > above }.count >= count
    }
}

func spoolDump(_ directory: String) throws -> [(topic: String, seq: Int)] {
    try run(AgentProcess.binary, ["spool", "dump", "--dir", directory]).split(separator: "\n").compactMap { line in
        let fields = line.split(separator: " ", maxSplits: 3)
        guard fields.count == 4, let json = try JSONSerialization.jsonObject(with: Data(fields[3].utf8)) as? [String: Any],
            let seq = json["seq"] as? Int
        else { return nil }
        return (String(fields[2]), seq)
    }
}
