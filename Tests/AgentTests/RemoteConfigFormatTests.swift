import Testing

@testable import Agent

/// The formats of the remote configuration switch, with no broker: what it reads back from its
/// own files, the signature's encoding, and the keys a pushed text cannot change.
@Suite("Remote configuration formats")
struct RemoteConfigFormatTests {
    @Test func base64RoundTripsAndRefusesAnythingNotCanonical() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        for bad in ["Zm9", "Zm9v=", "Zm==Zm9v", "Zm9*", "Zh==", "Zm9=Zm9v", "===="] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }

    @Test func aStoredConfigurationReadsBackAndADamagedOneIsNone() {
        let stored = StoredConfig(
            version: 7, text: "config_version: 7\n", base: "ab", requestID: "\"x\ny\"", origin: "group lab", appliedAt: 12, starts: 2)
        let bytes = stored.serialized()
        var expected = stored
        expected.requestID = #""x y""# // kept on its header line
        #expect(StoredConfig.parse(bytes) == expected)
        var damaged = bytes
        damaged[damaged.count - 2] ^= 1 // one bit of the text: its digest no longer matches
        #expect(StoredConfig.parse(damaged) == nil)
        #expect(StoredConfig.parse(Array(bytes.prefix(40))) == nil)
        #expect(StoredConfig.parse(Array("edge-agent pushed configuration 1\nversion -1\n\n".utf8)) == nil)
    }

    @Test func theStateReadsBackWithItsReport() {
        var state = RemoteConfigState()
        state.floor = 9
        state.rolledBack = 1
        state.lastRollback = "config_version 9: not confirmed"
        state.report = .init(outcome: "rolled_back", version: 9, requestID: "\"a\"", reason: "not confirmed")
        #expect(RemoteConfigState.parse(state.serialized()) == state)
        #expect(RemoteConfigState.parse(Array("edge-agent pushed configuration state 1\nfloor 1\n\n".utf8)) == nil)
    }

    @Test func theBoardsOwnKeysComeFromTheLocalFile() throws {
        let local = try YAMLDecoder.parse(
            "device_id: board-7\nmqtt: {brokers: [mqtt://a], client_id: c7}\nspool: {dir: /data/spool}\nremote_config: {enabled: true, allow_unsigned: true}\n",
            file: "local")
        let pushed = try YAMLDecoder.parse(
            "device_id: other\nmqtt: {brokers: [mqtt://b], client_id: stolen}\nremote_config: {enabled: false}\n", file: "pushed")
        let merged = ConfigPush.overlay(pushed, from: local)
        let config = try YAMLDecoder.decodeWithLines(AgentConfig.self, root: merged, file: "pushed").value
        #expect(config.deviceID == "board-7")
        #expect(config.mqtt.clientID == "c7")
        #expect(config.mqtt.brokers == ["mqtt://b"]) // not the board's own: the pushed one
        #expect(config.spool.dir == "/data/spool") // put in with its section
        #expect(config.remoteConfig.enabled)
    }
}
