import Foundation
import MQTT
import Syscalls
import Testing

@testable import Agent

/// The command component on its own: a request in, exactly one reply out, each command one call
/// on its target. The target here is a fake that records the calls; the client never connects.
@Suite("Command runner")
struct CommandRunnerTests {
    final class FakeTarget: CommandTarget {
        var calls: [String] = []
        var reloadError: String?
        var uptimeSeconds: UInt64 { 42 }
        func writeStatus(into result: inout JSONWriter) { calls.append("status"); result.key("fake"); result.literal("true") }
        func read(sensorNamed name: String, into result: inout JSONWriter) throws(CommandFailure) {
            calls.append("read \(name)")
            guard name == "air" else { throw CommandFailure("no sensor named '\(name)'") }
            result.key("sensor"); result.string(name)
        }
        func setInterval(sensorNamed name: String, to interval: ConfigDuration, into result: inout JSONWriter) throws(CommandFailure) {
            calls.append("interval \(name) \(interval.nanoseconds)")
        }
        func setOutput(named name: String, to value: Bool?, into result: inout JSONWriter) throws(CommandFailure) {
            calls.append("set \(name) \(value.map { "\($0)" } ?? "toggle")")
        }
        func pulseOutput(named name: String, milliseconds: Int, into result: inout JSONWriter) throws(CommandFailure) {
            calls.append("pulse \(name) \(milliseconds)")
        }
        func requestReload() throws(CommandFailure) {
            calls.append("reload")
            if let reloadError { throw CommandFailure(reloadError) }
        }
        func writeConfig(into result: inout JSONWriter) throws(CommandFailure) { calls.append("config-get") }
        func applyConfig(_ text: String, signature: String?, requestID: JSONValue, into result: inout JSONWriter) throws(CommandFailure) {
            calls.append("config-set \(text.utf8.count) \(signature ?? "-")")
        }
    }

    static func runner(packetLimit: Int = 256 * 1024) throws -> CommandRunner {
        var session = SessionConfiguration(connect: ConnectOptions(clientID: "t", cleanSession: false, keepAlive: 30))
        session.maxOutgoingPacketSize = packetLimit
        let client = try MQTTClient(
            configuration: ClientConfiguration(brokers: [BrokerAddress(host: "127.0.0.1", port: 1, useTLS: false)], session: session))
        return CommandRunner(client: client, topics: Topics(prefix: "edge", device: "t"), repeated: RepeatedLog(write: { _ in }))
    }

    /// Receives one request and answers it: the reply's topic and text.
    func answer(
        _ command: String, _ payload: String, retained: Bool = false, properties: [UInt8] = [], target: FakeTarget,
        runner: CommandRunner? = nil, runAt: Nanoseconds? = nil
    ) throws -> (String, String) {
        let runner = try runner ?? CommandRunnerTests.runner()
        let topic = Array("edge/t/cmd/\(command)".utf8)
        let bytes = Array(payload.utf8)
        try topic.withUnsafeBytes { t in
            try bytes.withUnsafeBytes { raw in
                try properties.withUnsafeBytes { block in
                    runner.receive(
                        topic: t, payload: raw, size: bytes.count, packetID: 1, dup: false, retained: retained,
                        properties: try Properties(block, checkedAs: .publish))
                }
            }
        }
        let before = target.calls.count
        runner.run(statusPending: true, on: target) // a status waits: nothing runs yet
        #expect(target.calls.count == before)
        var inbox = runner.inbox
        inbox.acknowledgementsSent()
        let next = runAt.map { inbox.next(now: $0) } ?? inbox.next()
        let request = try #require(next)
        var reply = JSONWriter(capacity: 4096)
        defer { reply.deallocate() }
        let replyTopic = runner.answer(request, on: target, into: &reply)
        return (replyTopic, String(decoding: reply.view, as: UTF8.self))
    }

    @Test func aResponseTopicTakesTheReplyWithItsCorrelationData() throws {
        let target = FakeTarget()
        var p = PropertyBuilder()
        p.string(PropertyID.responseTopic, "app/replies/42")
        p.data(PropertyID.correlationData, [9, 8, 7])
        let (topic, reply) = try answer("ping", "", properties: p.bytes, target: target)
        #expect(topic == "app/replies/42")
        #expect(reply.contains(#""ok":true"#))
        var own = PropertyBuilder()
        own.string(PropertyID.responseTopic, "edge/t/status") // the device's own status: refused, not run
        let (refusedTopic, refused) = try answer("gpio-toggle", #"{"line":"relay"}"#, properties: own.bytes, target: target)
        #expect(refusedTopic == "edge/t/reply/gpio-toggle")
        #expect(refused.contains("response topic") && refused.contains(#""ok":false"#))
        #expect(!target.calls.contains { $0.hasPrefix("set relay") })
        var huge = PropertyBuilder()
        huge.data(PropertyID.correlationData, [UInt8](repeating: 7, count: 5000))
        let (_, tooLarge) = try answer("gpio-toggle", #"{"line":"relay"}"#, properties: huge.bytes, target: target)
        #expect(tooLarge.contains("over 1024 bytes") && !target.calls.contains { $0.hasPrefix("set relay") })
        var reply5 = PropertyBuilder()
        reply5.string(PropertyID.responseTopic, "edge/t/reply/mine")
        #expect(try answer("ping", "", properties: reply5.bytes, target: target).0 == "edge/t/reply/mine")
    }

    @Test func aRequestWhoseExpiryIsSpentIsAnsweredNotRun() throws {
        let target = FakeTarget()
        var p = PropertyBuilder()
        p.uint32(PropertyID.messageExpiryInterval, 2)
        let late = MonotonicClock.now() + 3_000_000_000
        let (_, reply) = try answer("gpio-toggle", #"{"line":"relay"}"#, properties: p.bytes, target: target, runAt: late)
        #expect(reply.contains("expired"))
        #expect(target.calls.isEmpty)
        _ = try answer("gpio-toggle", #"{"line":"relay"}"#, properties: p.bytes, target: target) // in time: runs
        #expect(!target.calls.isEmpty)
    }

    @Test func eachCommandIsOneCallOnItsTarget() throws {
        let target = FakeTarget()
        let (topic, reply) = try answer("read", #"{"id":7,"sensor":"air"}"#, target: target)
        #expect(topic == "edge/t/reply/read")
        #expect(reply == #"{"id":7,"ok":true,"result":{"sensor":"air"}}"#)
        _ = try answer("gpio-toggle", #"{"line":"relay"}"#, target: target)
        _ = try answer("gpio-set", #"{"line":"relay","value":false}"#, target: target)
        _ = try answer("gpio-pulse", #"{"line":"relay","duration_ms":250}"#, target: target)
        _ = try answer("set-interval", #"{"sensor":"air","interval":"2s"}"#, target: target)
        #expect(
            target.calls == ["read air", "set relay toggle", "set relay false", "pulse relay 250", "interval air 2000000000"])
        #expect(try answer("ping", "", target: target).1 == #"{"id":null,"ok":true,"result":{"pong":true,"uptime_s":42}}"#)
    }

    @Test func aFailureIsTheReplyAndNothingElseRuns() throws {
        let target = FakeTarget()
        #expect(
            try answer("read", #"{"id":"a","sensor":"sky"}"#, target: target).1 == #"{"id":"a","ok":false,"error":"no sensor named 'sky'"}"#
        )
        let unknown = try answer("explode", "{}", target: target).1
        #expect(unknown.contains("unknown command 'explode'; commands: ping, status, read, set-interval"))
        let extra = try answer("gpio-set", #"{"line":"relay","value":true,"force":1}"#, target: target).1
        #expect(extra.contains(#""ok":false"#) && extra.contains("force"))
        let range = try answer("gpio-pulse", #"{"line":"relay","duration_ms":0}"#, target: target).1
        #expect(range.contains(#""ok":false"#))
        target.reloadError = "configuration not reloaded: bad"
        #expect(try answer("reload", "", target: target).1.contains("configuration not reloaded: bad"))
        // Only the reads and the reload reached the target: the other refusals came before any call.
        #expect(target.calls == ["read sky", "reload"])
    }

    @Test func aRetainedRequestIsAnsweredAndNeverRun() throws {
        let target = FakeTarget()
        let reply = try answer("gpio-toggle", #"{"line":"relay"}"#, retained: true, target: target).1
        #expect(reply.contains(#""ok":false"#) && reply.contains("retained"))
        #expect(target.calls.isEmpty)
    }

    @Test func aReplyOverTheBrokersLimitIsAnsweredWithAnError() throws {
        let target = FakeTarget()
        let runner = try CommandRunnerTests.runner(packetLimit: 60)
        let reply = try answer("status", #"{"id":"a-long-request-id-that-makes-the-reply-long"}"#, target: target, runner: runner).1
        #expect(reply.contains("is over mqtt.max_packet_size (60 bytes)"))
    }

    /// Between connections a request already taken still runs, and its reply waits in the
    /// session's window for the next connect (a persistent session: nothing is lost).
    @Test func aReplyWaitsInTheSessionWhileDisconnected() throws {
        let runner = try CommandRunnerTests.runner()
        let target = FakeTarget()
        let topic = Array("edge/t/cmd/status".utf8)
        topic.withUnsafeBytes { t in
            runner.receive(topic: t, payload: UnsafeRawBufferPointer(start: nil, count: 0), size: 0, packetID: 9, dup: false)
        }
        #expect(!runner.isIdle)
        #expect(!runner.isReady(statusPending: false)) // its PUBACK has not gone yet
        runner.run(statusPending: true, on: target)
        #expect(target.calls.isEmpty && !runner.isIdle) // the status goes first
        runner.run(statusPending: false, on: target)
        #expect(target.calls == ["status"] && runner.isIdle)
        #expect(runner.counts.replied == 1 && runner.counts.replyFailures == 0)
        #expect(runner.inbox.received == 1)
        let other = Array("edge/t/status".utf8)
        #expect(other.withUnsafeBytes { !runner.accepts(topic: $0) })
    }
}
