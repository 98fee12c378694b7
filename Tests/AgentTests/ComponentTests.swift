import Foundation
import MQTT
import Testing

@testable import Agent

/// The agent's components, each through its own surface, in an agent wired as in a run but never
/// started (ComponentRig: the simulated board, a spool in a fresh directory, no broker).
@Suite("Components")
struct ComponentTests {
    // MARK: Sampler

    @Test func dueSensorsAreReadOnTheirGridAndRecordedInOrder() throws {
        let rig = try ComponentRig(
            sensors: "  - {name: air, driver: simulated, interval: 1s}\n  - {name: soil, driver: simulated, interval: 2s}")
        let sampler = rig.agent.sampler
        let start = MonotonicClock.now()
        sampler.runDueSensors(now: start)
        #expect(sampler.readings == 2)
        let earliest = try #require(sampler.sensorsEarliest)
        #expect(earliest > start && earliest <= start + 1_000_000_000) // air's next slot, not soil's
        sampler.runDueSensors(now: start + 1) // nothing due yet
        #expect(sampler.readings == 2)
        sampler.runDueSensors(now: earliest)
        #expect(sampler.readings == 3)
        let records = try rig.records().filter { !$0.event }
        #expect(records.map(\.name) == ["air", "soil", "air"])
        #expect(records[0].json.hasPrefix(#"{"seq":0,"ts":"#) && records[2].json.hasPrefix(#"{"seq":1,"ts":"#))
    }

    @Test func aNewIntervalMovesTheScheduleAtOnce() throws {
        let rig = try ComponentRig()
        let sampler = rig.agent.sampler
        sampler.runDueSensors(now: MonotonicClock.now())
        let result = try text { try sampler.setInterval(sensorNamed: "air", to: .seconds(60), into: &$0) }
        #expect(result == #"{"sensor":"air","interval_ms":60000}"#)
        let changed = try #require(sampler.sensorsEarliest)
        #expect(changed <= MonotonicClock.now()) // the loop comes round at once to read the deadlines again
        sampler.runDueSensors(now: MonotonicClock.now())
        #expect(try #require(sampler.sensorsEarliest) > MonotonicClock.now() + 59_000_000_000)
        #expect(throws: CommandFailure.self) { try text { try sampler.setInterval(sensorNamed: "sky", to: .seconds(1), into: &$0) } }
    }

    @Test func aDrivenOutputIsAnEventAndItsWiredInputFollows() throws {
        let rig = try ComponentRig()
        let sampler = rig.agent.sampler
        let relay = try sampler.commandableOutput("relay")
        let result = try text { try sampler.drive(relay, to: true, into: &$0) }
        #expect(result == #"{"line":"relay","value":true}"#)
        // The simulated board wires GPIO20 to GPIO21: the door input sees the edge as an event on its
        // descriptor, and publishes it once its debounce settles (the GPIO timers' job).
        let now = MonotonicClock.now()
        #expect(sampler.eventDescriptors.count == 1)
        for fd in sampler.eventDescriptors { #expect(sampler.handleGPIOEvents(fd: fd, now: now)) }
        #expect(!sampler.handleGPIOEvents(fd: -5, now: now))
        sampler.runGPIOTimers(now: now + 1_000_000_000)
        let events = try rig.records().filter(\.event)
        #expect(events.map(\.name) == ["relay", "door"])
        #expect(events.allSatisfy { $0.json.contains(#""state":true"#) })
        #expect(throws: CommandFailure.self) { try sampler.commandableOutput("door") } // an input is never driven
    }

    // MARK: Delivery

    @Test func offlineReadingsWaitInTheSpoolAsBacklog() throws {
        let rig = try ComponentRig()
        let delivery = rig.agent.delivery
        rig.agent.sampler.runDueSensors(now: MonotonicClock.now())
        #expect(delivery.waitingCount == 1)
        #expect(delivery.backlogDeadline == nil) // nothing to send to while disconnected
        let counts = text { delivery.writeSpoolCounts(into: &$0) }
        #expect(counts.hasPrefix(#"{"spool_records":1,"#) && counts.contains(#""dropped":0"#))
        delivery.publishStatus(online: false) // a clean stop while disconnected: the offline status is not sent
        #expect(delivery.statusPending && delivery.offlineStatusUnsent)
        delivery.shutDown()
        #expect(delivery.waitingCount == 1) // kept for the next run
    }

    // MARK: State topics and Home Assistant

    @Test func homeAssistantsBirthAsksForEverythingAgainAndMetricsNow() throws {
        let rig = try ComponentRig("home_assistant: {discovery: true}")
        let states = rig.agent.states
        #expect(states.states.slots.count == 3) // air, door, relay
        #expect(states.deadline == nil) // not connected: nothing goes
        func receive(_ topic: String, _ payload: String) -> Bool {
            Array(topic.utf8).withUnsafeBytes { t in Array(payload.utf8).withUnsafeBytes { states.receive(topic: t, payload: $0) } }
        }
        #expect(!receive("homeassistant/status", "offline"))
        #expect(receive("homeassistant/status", "online"))
        #expect(states.discoveryNext == 0)
        // A config under our node that we no longer announce is cleared; ours is kept.
        #expect(!receive("homeassistant/sensor/rig/gone_temperature/config", "{}"))
        #expect(states.staleConfigs == ["homeassistant/sensor/rig/gone_temperature/config"])
        #expect(!receive("homeassistant/sensor/rig/gone_temperature/config", "{}")) // once
        #expect(states.staleConfigs.count == 1)
    }

    @Test func aRecordBecomesItsNamesStateAndLinesStartWithTheirLevel() throws {
        let rig = try ComponentRig(mqtt: ", state_topics: true")
        let states = rig.agent.states
        #expect(states.states.pendingCount == 2) // the two lines, with their level now
        rig.agent.sampler.runDueSensors(now: MonotonicClock.now())
        #expect(states.states.pendingCount == 3)
        let air = String(decoding: states.states.slots[0].payload, as: UTF8.self)
        #expect(air.hasPrefix(#"{"seq":0,"ts":"#)) // the record's JSON, without its spool header
    }

    // MARK: Metrics

    @Test func metricsKeepTheirGridAndCanGoAtOnce() {
        let metrics = MetricsReport(topic: "edge/t/metrics", properties: .none, interval: 60_000_000_000, now: 0)
        #expect(!metrics.isDue(now: 59_999_999_999))
        #expect(metrics.isDue(now: 60_000_000_000) && metrics.nextAt == 120_000_000_000)
        #expect(metrics.isDue(now: 250_000_000_000) && metrics.nextAt == 300_000_000_000) // on the grid, missed slots skipped
        metrics.sendSoon(now: 260_000_000_000)
        #expect(metrics.isDue(now: 260_000_000_000))
        metrics.restart(now: 1_000)
        #expect(metrics.nextAt == 60_000_001_000)
    }

    // MARK: Process control

    @Test func aReloadIsAskedForOnlyWithAGoodFile() throws {
        let none = try ProcessControl(configPath: nil, startedAt: MonotonicClock.now())
        #expect(throws: CommandFailure.self) { try none.requestReload() }
        #expect(!none.reloadRequested)
        let rig = try ComponentRig()
        let path = rig.directory.file("edge.yaml")
        try "device_id: [".write(toFile: path, atomically: true, encoding: .utf8)
        let broken = try ProcessControl(configPath: path, startedAt: MonotonicClock.now())
        #expect(throws: CommandFailure.self) { try broken.requestReload() }
        #expect(!broken.reloadRequested)
        try "device_id: rig\nmqtt: {brokers: [mqtt://127.0.0.1:1]}\nspool: {dir: \(rig.directory.path)/s2}\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try broken.requestReload()
        #expect(broken.reloadRequested)
        broken.cancelReload()
        #expect(!broken.reloadRequested)
    }
}
