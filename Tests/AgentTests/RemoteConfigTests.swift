import Foundation
import MQTT
import TestSupport
import Testing

/// Configurations pushed over MQTT to agents running against mosquitto: signed, checked, applied
/// by a re-exec, confirmed by a working connection, rolled back when there is none, and each
/// kill of the switch leaving a board that starts.
@Suite("Remote configuration against mosquitto", .serialized)
struct RemoteConfigTests {
    /// A board with remote configuration on, its keys, and the text it could be pushed.
    struct Board {
        let broker: Mosquitto
        let observer: Observer
        let agent: AgentProcess
        let keys: TemporaryDirectory

        init(enabled: Bool = true, device: String = "e2e", group: String? = nil, sharing other: Board? = nil) throws {
            broker = try other?.broker ?? Mosquitto()
            observer = try Observer(url: broker.url)
            keys = other?.keys ?? TemporaryDirectory("keys")
            for name in ["good", "other"] where other == nil {
                _ = try run("/usr/bin/openssl", ["genpkey", "-algorithm", "ed25519", "-out", keys.file("\(name).key")])
                _ = try run("/usr/bin/openssl", ["pkey", "-in", keys.file("\(name).key"), "-pubout", "-out", keys.file("\(name).pub")])
            }
            let remote = TemporaryDirectory("remote").file("config")
            let groupKey = group.map { ", group: \($0)" } ?? ""
            agent = try AgentProcess(
                brokerPort: self.broker.port, interval: "200ms",
                extraConfig:
                    "remote_config: {enabled: \(enabled), public_key: \(keys.file("good.pub")), confirm_within: 6s, dir: \(remote)\(groupKey)}"
            )
            if device != "e2e" { try agent.amendConfig(["device_id: e2e": "device_id: \(device)"]) }
        }

        /// A whole configuration: the test's own, at `version`, with a third sensor.
        func text(version: Int, broker: String? = nil, extraSensor: String = "{name: extra, driver: simulated, interval: 200ms}")
            -> String
        {
            """
            config_version: \(version)
            device_id: pushed-ids-are-replaced
            mqtt:
              brokers: [\(broker ?? self.broker.url)]
              keep_alive: 5s
              reconnect_min: 100ms
              reconnect_max: 300ms
            spool: {dir: \(agent.directory.file("spool")), capacity: 4MiB, durability: interval, sync_interval: 100ms}
            metrics_interval: 500ms
            sensors:
              - {name: air, driver: simulated, interval: 200ms}
              - {name: soil, driver: simulated, interval: 200ms}
              - \(extraSensor)

            """
        }

        /// The `config-set` request for `text`, as `edge-agent sign-config` makes it.
        func request(_ text: String, key: String? = "good", id: String = "push-1") throws -> String {
            let scratch = TemporaryDirectory("push")
            try text.write(toFile: scratch.file("config.yaml"), atomically: true, encoding: .utf8)
            let keyArguments = key.map { ["--key", keys.file("\($0).key")] } ?? []
            return try run(AgentProcess.binary, ["sign-config", "--config", scratch.file("config.yaml"), "--id", id] + keyArguments)
        }

        func replies(_ id: String) -> [[String: Any]] { observer.replies("config-set").filter { $0["id"] as? String == id } }

        func configGet() throws -> [String: Any]? {
            let before = observer.replies("config-get").count
            try observer.send("config-get", "{}")
            guard observer.wait(until: { observer.replies("config-get").count > before }) else { return nil }
            return observer.replies("config-get").last?["result"] as? [String: Any]
        }

        func start(environment: [String: String] = [:]) throws {
            let seen = observer.statuses.filter { $0 == "online" }.count
            try agent.start(environment: environment)
            #expect(observer.wait { observer.statuses.filter { $0 == "online" }.count > seen })
        }
    }

    @Test func aSignedConfigurationIsAppliedConfirmedReturnedByConfigGetAndNotReplayed() throws {
        let board = try Board()
        try board.start()
        let text = board.text(version: 1)
        try board.observer.send("config-set", try board.request(text))
        #expect(board.observer.wait { board.replies("push-1").first?["ok"] as? Bool == true })
        #expect((board.replies("push-1").first?["result"] as? [String: Any])?["config_version"] as? Int == 1)
        #expect(board.observer.wait(seconds: 15) { !board.observer.telemetry("extra").isEmpty }, "\(board.agent.log)")
        #expect(board.observer.wait(seconds: 10) { board.replies("push-1").count == 2 })
        let outcome = board.replies("push-1").last?["result"] as? [String: Any]
        #expect(outcome?["config"] as? String == "confirmed")
        let got = try board.configGet()
        #expect(got?["source"] as? String == "pushed")
        #expect(got?["config_version"] as? Int == 1)
        #expect(got?["text"] as? String == text)
        // The board's own id, not the pushed text's: it still answers on edge/e2e/.
        #expect(!board.observer.messages.contains { $0.topic.hasPrefix("edge/pushed-ids-are-replaced/") })
        #expect(board.observer.wait { metrics(board)?["confirmed"] as? Int == 1 })
        // The same signed request again (a replay): refused, its version is not higher.
        try board.observer.send("config-set", try board.request(text, id: "replayed"))
        #expect(board.observer.wait { !board.replies("replayed").isEmpty })
        #expect((board.replies("replayed").first?["error"] as? String ?? "").contains("not higher than 1"))
        // Restarted, it stays on the confirmed configuration.
        board.agent.stop(SIGTERM)
        try board.start()
        #expect(try board.configGet()?["config_version"] as? Int == 1)
        board.agent.stop(SIGTERM)
    }

    @Test func aConfigurationCheckConfigRefusesIsAnsweredWithItsErrorsAndChangesNothing() throws {
        let board = try Board()
        try board.start()
        let text = board.text(version: 1, extraSensor: "{name: extra, driver: no-such-chip, interval: 200ms}")
        try board.observer.send("config-set", try board.request(text))
        #expect(board.observer.wait { !board.replies("push-1").isEmpty })
        let reply = board.replies("push-1").first
        #expect(reply?["ok"] as? Bool == false)
        let error = reply?["error"] as? String ?? ""
        #expect(error.hasPrefix("config-set:13: sensors.2.driver: unknown driver 'no-such-chip'"), "\(error)")
        board.observer.wait(seconds: 2) { false }
        #expect(board.observer.telemetry("extra").isEmpty)
        #expect(try board.configGet()?["source"] as? String == "local")
        #expect(board.agent.log.components(separatedBy: "starting: device").count == 2) // never restarted
        board.agent.stop(SIGTERM)
    }

    @Test func aConfigurationNamingABrokerThatDoesNotExistIsRolledBack() throws {
        let board = try Board()
        try board.start()
        let started = Date()
        let text = board.text(version: 1, broker: "mqtt://127.0.0.1:\(freeLoopbackPort())")
        try board.observer.send("config-set", try board.request(text, id: "bad-broker"))
        #expect(board.observer.wait { board.replies("bad-broker").first?["ok"] as? Bool == true })
        // 6 s to confirm, then the re-exec and a reconnect through the old broker.
        #expect(board.observer.wait(seconds: 15) { board.replies("bad-broker").count == 2 }, "\(board.agent.log)")
        let report = board.replies("bad-broker").last
        #expect(report?["ok"] as? Bool == false)
        #expect(report?["config"] as? String == "rolled_back")
        #expect((report?["error"] as? String ?? "").contains("not confirmed within 6s"))
        #expect(Date().timeIntervalSince(started) > 6)
        let reportedAt = board.observer.telemetry("air").count
        #expect(board.observer.wait { board.observer.telemetry("air").count > reportedAt + 3 }) // publishing again
        // What the trial's extra sensor read was spooled and is delivered; it reads no more.
        board.observer.wait(seconds: 2) { false }
        let extra = board.observer.telemetry("extra").count
        board.observer.wait(seconds: 2) { false }
        #expect(board.observer.telemetry("extra").count == extra)
        #expect(try board.configGet()?["source"] as? String == "local")
        try board.observer.send("status", "{}")
        #expect(board.observer.wait { !board.observer.replies("status").isEmpty })
        let config = (board.observer.replies("status").last?["result"] as? [String: Any])?["config"] as? [String: Any]
        #expect(config?["rolled_back"] as? Int == 1)
        #expect((config?["last_rollback"] as? String ?? "").hasPrefix("config_version 1:"))
        #expect(board.observer.wait { metrics(board)?["rolled_back"] as? Int == 1 })
        // Version 1 was tried here: sent again, it is refused as not newer.
        try board.observer.send("config-set", try board.request(text, id: "again"))
        #expect(board.observer.wait { !board.replies("again").isEmpty })
        #expect((board.replies("again").first?["error"] as? String ?? "").contains("not higher than 1"))
        board.agent.stop(SIGTERM)
    }

    @Test func unsignedWronglySignedTamperedAndDisabledAreRefused() throws {
        let board = try Board()
        try board.start()
        let cases: [(String, String, String)] = [
            ("unsigned", try board.request(board.text(version: 1), key: nil, id: "unsigned"), "not signed"),
            ("other-key", try board.request(board.text(version: 1), key: "other", id: "other-key"), "signature does not match"),
            (
                "downgraded",
                try board.request(board.text(version: 1), id: "downgraded").replacingOccurrences(
                    of: "config_version: 1", with: "config_version: 0"), "signature does not match"
            ),
            (
                "tampered",
                try board.request(board.text(version: 1), id: "tampered").replacingOccurrences(of: "interval: 200ms", with: "interval: 1s"),
                "signature does not match"
            ),
        ]
        for (id, request, expected) in cases {
            try board.observer.send("config-set", request)
            #expect(board.observer.wait { !board.replies(id).isEmpty })
            #expect(board.replies(id).first?["ok"] as? Bool == false)
            #expect((board.replies(id).first?["error"] as? String ?? "").contains(expected), "\(board.replies(id))")
        }
        #expect(board.observer.wait { metrics(board)?["refused"] as? Int == 4 })
        board.agent.stop(SIGTERM)

        let off = try Board(enabled: false)
        try off.start()
        try off.observer.send("config-set", try off.request(off.text(version: 5)))
        #expect(off.observer.wait { !off.replies("push-1").isEmpty })
        #expect((off.replies("push-1").first?["error"] as? String ?? "").contains("remote configuration is off"))
        #expect(try off.configGet()?["source"] as? String == "local")
        off.agent.stop(SIGTERM)
    }

    /// SIGKILL at each step of the switch: the board starts again, and ends on one of the two
    /// configurations, confirmed or rolled back, never on none.
    @Test(arguments: [
        ("trial-written", 0), ("trial-renamed", 1), ("restarted", 1), ("unconfirmed", 1), ("confirming", 1),
    ])
    func aKillAtEachStepLeavesABoardThatStartsOnOneOfTheTwo(step: String, expectedVersion: Int) throws {
        let board = try Board()
        try board.start(environment: ["EDGE_AGENT_CRASH_AT": step])
        try board.observer.send("config-set", try board.request(board.text(version: 1)))
        #expect(
            board.observer.wait(seconds: 15) { board.agent.process?.hasExited == true }, "\(step): not killed; \(board.agent.log)")
        board.agent.stop(SIGKILL)
        try board.start()
        #expect(board.observer.wait(seconds: 10) { (try? board.configGet()?["config_version"] as? Int) == expectedVersion })
        // Still so after the confirmation window: confirmed, not rolled back.
        board.observer.wait(seconds: 7) { false }
        let got = try board.configGet()
        #expect(got?["config_version"] as? Int == expectedVersion, "\(step): \(board.agent.log)")
        #expect(got?["source"] as? String == (expectedVersion == 1 ? "pushed" : "local"))
        #expect(!board.agent.log.contains("rolling back"), "\(step): \(board.agent.log)")
        board.agent.stop(SIGTERM)
    }

    @Test func aGroupsRetainedConfigurationIsTakenByEachBoardWithItsOwnIdentity() throws {
        let first = try Board(group: "lab")
        let second = try Board(device: "e2e-b", group: "lab", sharing: first)
        try first.start()
        try second.agent.start()
        #expect(first.observer.wait { first.observer.messages.contains { $0.topic == "edge/e2e-b/status" } })
        // One text for both: each keeps its own device id and spool directory (board-owned keys).
        let request = try first.request(first.text(version: 3))
        _ = try first.observer.client.publish(
            topic: "edge/groups/lab/config", payload: Array(request.utf8), qos: .atLeastOnce, retain: true)
        #expect(first.observer.wait(seconds: 20) { !first.observer.telemetry("extra").isEmpty }, "\(first.agent.log)")
        #expect(
            first.observer.wait(seconds: 20) { first.observer.messages.contains { $0.topic == "edge/e2e-b/telemetry/extra" } },
            "\(second.agent.log)")
        // The retained message comes again on each connect: it is not applied again.
        first.observer.wait(seconds: 8) { false }
        #expect(first.agent.log.components(separatedBy: "applying pushed").count == 2)
        #expect(second.agent.log.components(separatedBy: "applying pushed").count == 2)
        #expect(first.agent.log.contains("confirmed"))
        first.agent.stop(SIGTERM)
        second.agent.stop(SIGTERM)
    }
}

/// The newest metrics message's `remote_config` object.
private func metrics(_ board: RemoteConfigTests.Board) -> [String: Any]? {
    let last = board.observer.messages.last { $0.topic == "edge/e2e/metrics" }
    let object = last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any] }
    return object?["remote_config"] as? [String: Any]
}
