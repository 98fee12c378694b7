import Agent
import Foundation
import MQTT
import TestSupport
import Testing

extension Observer {
    func send(_ command: String, _ payload: String) throws {
        _ = try client.publish(topic: "edge/e2e/cmd/\(command)", payload: Array(payload.utf8), qos: .atLeastOnce)
    }

    func replies(_ command: String) -> [[String: Any]] {
        messages.filter { $0.topic == "edge/e2e/reply/\(command)" }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]
        }
    }
}

@Suite("Commands against a running agent", .serialized)
struct CommandTests {
    /// Sends each request and returns its one reply.
    func exchange(
        _ requests: [(command: String, payload: String)], extraConfig: String = "", afterwards: (Observer) -> Void = { _ in },
        check: ([String: Any]?, Int) -> Void
    ) throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port, interval: "1s", extraConfig: extraConfig)
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] })
        for (i, request) in requests.enumerated() {
            let before = observer.replies(request.command).count
            try observer.send(request.command, request.payload)
            #expect(observer.wait { observer.replies(request.command).count == before + 1 }, "no reply to \(request)")
            check(observer.replies(request.command).last, i)
        }
        // Exactly one reply per request, and the agent is still there.
        #expect(observer.messages.filter { $0.topic.contains("/reply/") }.count == requests.count)
        try observer.send("ping", "{}")
        #expect(observer.wait { observer.replies("ping").count == requests.filter { $0.command == "ping" }.count + 1 })
        afterwards(observer)
        agent.stop(SIGTERM)
    }

    /// On the simulated board GPIO20 is wired to GPIO21: driving the output produces an input event.
    @Test func gpioCommandsDriveOutputsAndInputEventsArrive() throws {
        let extra = """
              - {name: climate, driver: bme280, address: 0x76, interval: 1s}
            gpio:
              - {name: relay, line: GPIO20, direction: output, initial: false, safe_state: false, commandable: true}
              - {name: door, line: pin 40, direction: input, edge: both, debounce: 20ms}
              - {name: lamp, line: GPIO5, direction: output}
            """
        func events(_ o: Observer, _ line: String) -> [Bool] {
            o.messages.filter { $0.topic == "edge/e2e/events/\(line)" }.compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any])?["state"] as? Bool
            }
        }
        try exchange(
            [
                ("gpio-set", #"{"id": 1, "line": "relay", "value": true}"#),
                ("gpio-toggle", #"{"id": 2, "line": "relay"}"#),
                ("gpio-pulse", #"{"id": 3, "line": "relay", "duration_ms": 100}"#),
                ("gpio-set", #"{"id": 4, "line": "relay", "value": "on"}"#),
                ("gpio-set", #"{"id": 5, "line": "lamp", "value": true}"#),
                ("read", #"{"id": 6, "sensor": "climate"}"#),
            ], extraConfig: extra,
            afterwards: { o in
                // set true, toggle false, pulse true then back false: the wired input follows.
                #expect(o.wait { events(o, "relay") == [true, false, true, false] }, "\(events(o, "relay"))")
                #expect(o.wait { events(o, "door") == [true, false, true, false] }, "\(events(o, "door"))")
            }
        ) { reply, i in
            let result = reply?["result"] as? [String: Any]
            let error: String = (reply?["error"] as? String) ?? ""
            switch i {
            case 0: #expect(result?["value"] as? Bool == true)
            case 1: #expect(result?["value"] as? Bool == false)
            case 2: #expect(reply?["ok"] as? Bool == true)
            case 3: #expect(error.contains("'value' must be true, false, 0 or 1"), "\(error)")
            case 4: #expect(error.contains("not an output marked commandable"), "\(error)")
            default:
                #expect(result?["temperature_c"] as? Double == 25.08) // the BME280 chip model on the simulated bus
                #expect(result?["pressure_hpa"] as? Double == 1006.53)
            }
        }
    }

    @Test func validCommands() throws {
        try exchange([
            ("ping", #"{"id": 7}"#),
            ("status", #"{"id": "s-1"}"#),
            ("read", #"{"id": 3, "sensor": "air"}"#),
            ("set-interval", #"{"sensor": "soil", "interval": "250ms"}"#),
            ("set-interval", #"{"sensor": "soil", "interval": 2}"#),
            ("ping", ""),
        ]) { reply, i in
            #expect(reply?["ok"] as? Bool == true, "request \(i): \(String(describing: reply))")
            let result = reply?["result"] as? [String: Any]
            switch i {
            case 0: #expect(reply?["id"] as? Int == 7); #expect(result?["pong"] as? Bool == true)
            case 1:
                #expect(reply?["id"] as? String == "s-1")
                #expect(result?["version"] as? String == AgentVersion.string)
                #expect((result?["sensors"] as? [[String: Any]])?.map { $0["name"] as? String } == ["air", "soil"])
            case 2:
                #expect(result?["sensor"] as? String == "air"); #expect(result?["temperature_c"] is Double); #expect(result?["ts"] is Int64)
            case 3: #expect(result?["interval_ms"] as? Int == 250)
            case 4: #expect(result?["interval_ms"] as? Int == 2000)
            default: #expect(reply?["id"] is NSNull)
            }
        }
    }

    @Test func malformedRequestsGetAnErrorReplyAndChangeNothing() throws {
        let huge = #"{"id": 1, "pad": ""# + String(repeating: "x", count: 5000) + #""}"#
        try exchange([
            ("ping", #"{"id": 1,"#), // malformed JSON
            ("ping", #"[1, 2]"#), // not an object
            ("ping", #"{"id": [1]}"#), // bad id type
            ("launch-missiles", #"{"id": 4}"#), // unknown command
            ("read", #"{"id": 5}"#), // missing field
            ("read", #"{"id": 6, "sensor": 42}"#), // wrong type
            ("read", #"{"id": 7, "sensor": "attic"}"#), // no such sensor
            ("set-interval", #"{"id": 8, "sensor": "air", "interval": "soon"}"#),
            ("set-interval", #"{"id": 9, "sensor": "air", "interval": "1ms"}"#),
            ("ping", #"{"id": 10, "extra": true}"#), // unknown field
            ("ping", huge), // too large
            ("gpio-set", #"{"id": 12, "line": "relay", "value": true}"#), // not a commandable output
            ("ping", #"{"id": 13} trailing"#),
            ("ping", "\u{00}\u{ff}"), // binary garbage
        ]) { reply, i in
            #expect(reply?["ok"] as? Bool == false, "request \(i): \(String(describing: reply))")
            let error = reply?["error"] as? String ?? ""
            #expect(!error.isEmpty)
            switch i {
            case 0, 12, 13: #expect(error.contains("malformed JSON"))
            case 1: #expect(error.contains("JSON object"))
            case 3: #expect(error.contains("unknown command") && reply?["id"] as? Int == 4)
            case 4: #expect(error.contains("needs 'sensor'"))
            case 5: #expect(error.contains("must be a string"))
            case 6: #expect(error.contains("no sensor named 'attic'"))
            case 9: #expect(error.contains("unknown field 'extra'"))
            case 10: #expect(error.contains("larger than the limit"))
            case 11: #expect(error.contains("not an output marked commandable"))
            default: break
            }
        }
    }

    @Test func reloadChecksTheFileFirst() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port, interval: "1s")
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] })
        // A broken file: the reload is refused and the agent keeps running as it was.
        let good = try String(contentsOfFile: agent.directory.file("config.yaml"), encoding: .utf8)
        try (good + "\nbogus_key: 1\n").write(toFile: agent.directory.file("config.yaml"), atomically: true, encoding: .utf8)
        try observer.send("reload", #"{"id": 1}"#)
        #expect(observer.wait { observer.replies("reload").count == 1 })
        #expect(observer.replies("reload").first?["ok"] as? Bool == false)
        #expect((observer.replies("reload").first?["error"] as? String)?.contains("bogus_key") == true)
        // A good file with another sensor: reloaded in place (same process id), the new sensor reports.
        try (good + "\n  - {name: extra, driver: simulated, interval: 200ms}\n").write(
            toFile: agent.directory.file("config.yaml"), atomically: true, encoding: .utf8)
        try observer.send("reload", #"{"id": 2}"#)
        #expect(observer.wait { observer.replies("reload").count == 2 })
        #expect(observer.replies("reload").last?["ok"] as? Bool == true)
        #expect(observer.wait { !observer.telemetry("extra").isEmpty })
        #expect(agent.process?.hasExited == false)
        agent.stop(SIGTERM)
    }
}
