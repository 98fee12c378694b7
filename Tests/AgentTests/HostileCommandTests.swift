import Foundation
import MQTT
import TestSupport
import Testing

extension Observer {
    /// Publishes a request at QoS 1, waiting for room in the observer's own window.
    func request(_ command: String, _ payload: [UInt8]) {
        while true {
            do { _ = try client.publish(topic: "edge/e2e/cmd/\(command)", payload: payload, qos: .atLeastOnce); return } catch {
                client.runOnce(maxWait: 10_000_000)
            }
        }
    }

    var replies: [(topic: String, payload: String)] {
        messages.filter { $0.topic.hasPrefix("edge/e2e/reply/") }.map { ($0.topic, $0.payload) }
    }
}

extension AgentProcess {
    /// An observer on `broker`, and an agent started against it that has said it is online.
    static func online(_ broker: Mosquitto, interval: String, extraConfig: String = "") throws -> (AgentProcess, Observer) {
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port, interval: interval, extraConfig: extraConfig)
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] })
        return (agent, observer)
    }
}

/// Requests that once crashed the agent on every restart, or knocked it offline, against a real
/// mosquitto with persistence on: the agent stays up, answers each once, and keeps publishing.
@Suite("Hostile commands against a running agent", .serialized)
struct HostileCommandTests {
    func persistentBroker() throws -> Mosquitto {
        var options = Mosquitto.Options()
        options.persistence = true
        return try Mosquitto(options)
    }

    @Test func crashLoopsOfOldAreAnsweredOnceAndTheAgentCarriesOn() throws {
        let broker = try persistentBroker()
        defer { broker.stop() }
        let (agent, observer) = try AgentProcess.online(broker, interval: "200ms")
        let poison: [(String, [UInt8], String)] = [
            ("ping", Array(#"{"id":1e300}"#.utf8), "1e+300"), // trapped in JSONWriter
            ("set-interval", Array(#"{"id":2,"sensor":"air","interval":1e308}"#.utf8), "between"), // trapped in ConfigDuration
            ("set-interval", Array(#"{"id":3,"sensor":"air","interval":"infs"}"#.utf8), "not a duration"),
            ("set-interval", Array(#"{"id":4,"sensor":"air","interval":2e10}"#.utf8), "between"),
            ("ping", [UInt8](repeating: 0x20, count: 100_000), "larger than the limit"), // over 64 KiB: a reconnect loop
        ]
        for (command, payload, _) in poison { observer.request(command, payload) }
        #expect(observer.wait(seconds: 15) { observer.replies.count >= poison.count }, "\(observer.replies.map(\.payload))")
        for (i, (_, _, expected)) in poison.enumerated() where i < observer.replies.count {
            #expect(observer.replies[i].payload.contains(expected), "\(observer.replies[i])")
        }
        let before = observer.telemetry("air").count
        #expect(observer.wait { observer.telemetry("air").count >= before + 5 }, "telemetry stopped")
        // A restart of broker and agent: nothing comes again, nothing crashes.
        agent.stop(SIGKILL)
        try broker.restart()
        try agent.start()
        let restarted = observer.telemetry("air").count
        #expect(observer.wait(seconds: 15) { observer.telemetry("air").count >= restarted + 5 })
        observer.request("ping", Array(#"{"id":"after"}"#.utf8))
        #expect(observer.wait { observer.replies.contains { $0.payload.contains("after") } })
        #expect(observer.replies.count == poison.count + 1, "\(observer.replies.map(\.payload))")
        #expect(!broker.log.contains("Client e2e has exceeded timeout"))
    }

    @Test func aBurstOfRequestsGetsExactlyOneReplyEach() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let (agent, observer) = try AgentProcess.online(broker, interval: "1s")
        let count = 1000
        for i in 0..<count { observer.request("ping", Array(#"{"id":\#(i)}"#.utf8)) }
        #expect(observer.wait(seconds: 30) { observer.replies.count >= count }, "\(observer.replies.count) replies")
        observer.wait(seconds: 0.5) { false }
        let ids = observer.replies.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["id"] as? Int
        }
        #expect(ids.count == count)
        #expect(Set(ids) == Set(0..<count))
    }

    /// Random command topics and payloads (random JSON, random bytes, huge numbers, deep nesting,
    /// long strings), in bursts: exactly one reply per request, the agent alive, RSS bounded.
    @Test(arguments: [UInt64(1), 2, 3])
    func randomRequestsEachGetOneReply(seed: UInt64) throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let (agent, observer) = try AgentProcess.online(
            broker, interval: "100ms",
            extraConfig: """
                gpio:
                  - {name: relay, line: GPIO20, direction: output, commandable: true}
                  - {name: door, line: GPIO21, direction: input}
                """)
        var random = SplitMix(seed: seed)
        let count = 400
        for _ in 0..<count {
            let (command, payload) = random.request()
            observer.request(command, payload)
        }
        #expect(
            observer.wait(seconds: 60) { observer.replies.count >= count }, "seed \(seed): \(observer.replies.count) of \(count) replies")
        observer.wait(seconds: 0.5) { false }
        #expect(observer.replies.count == count, "seed \(seed)")
        #expect(agent.process?.hasExited == false, "the agent exited")
        let rss = agent.residentKilobytes ?? 0
        #expect(rss > 0 && rss < 40_000, "RSS \(rss) kB")
        observer.request("ping", Array(#"{"id":"alive"}"#.utf8))
        #expect(observer.wait { observer.replies.contains { $0.payload.contains("alive") } })
    }
}

extension AgentProcess {
    /// VmRSS from /proc, in kB.
    var residentKilobytes: Int? {
        guard let pid = process?.pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}

/// A small seeded generator (SplitMix64) of hostile requests, so a failure names its seed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func request() -> (String, [UInt8]) {
        let commands = [
            "ping", "status", "read", "set-interval", "gpio-set", "gpio-toggle", "gpio-pulse",
            "no-such", "x/y", "ping/extra", String(repeating: "c", count: 1 + below(200)), "\u{e9}t\u{e9}",
        ]
        let command = commands[below(commands.count)]
        return (command, Array(payload(depth: 0).utf8))
    }

    mutating func payload(depth: Int) -> String {
        switch below(10) {
        case 0: return String(decoding: (0..<below(300)).map { _ in UInt8(truncatingIfNeeded: next()) }, as: UTF8.self) // bytes
        case 1: return String(repeating: "[", count: 1 + below(100)) + String(repeating: "]", count: below(100)) // nesting
        case 2: return #"{"id":\#(["1e300", "-1e19", "18446744073709551616", "0.1", "\"x\"", "[]", "null"][below(7)])}"#
        default: return object(depth: depth)
        }
    }

    mutating func object(depth: Int) -> String {
        let keys = ["id", "sensor", "interval", "line", "value", "duration_ms", "extra"]
        var members: [String] = []
        for _ in 0..<below(5) { members.append("\"\(keys[below(keys.count)])\":\(value(depth: depth + 1))") }
        return "{" + members.joined(separator: ",") + "}"
    }

    mutating func value(depth: Int) -> String {
        switch below(depth > 3 ? 6 : 8) {
        case 0: return ["1e308", "-1e308", "2e10", "1e-320", "0", "1", "60000", "60001", "-0", "9007199254740993"][below(10)]
        case 1: return ["\"air\"", "\"soil\"", "\"relay\"", "\"door\"", "\"500ms\"", "\"infs\"", "\"nan\"", "\"99999999999s\""][below(8)]
        case 2: return "\"" + String(repeating: "s", count: below(5000)) + "\""
        case 3: return ["true", "false", "null"][below(3)]
        case 4: return "\"\\u00e9\\n\\\"\""
        case 5: return "\(Double(bitPattern: next()))".contains("nan") ? "0" : "\(Int64(truncatingIfNeeded: next()))"
        case 6: return "[" + (0..<below(4)).map { _ in value(depth: depth + 1) }.joined(separator: ",") + "]"
        default: return object(depth: depth)
        }
    }
}
