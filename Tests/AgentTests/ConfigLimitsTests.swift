import Foundation
import TestSupport
import Testing

@testable import Agent

/// Configuration values from outside: every one that `run` would refuse or trap on is refused by
/// the check, at its own line and key (issue: "check-config catches everything run would refuse").
@Suite("Config limits")
struct ConfigLimitsTests {
    @Test func durationsThatDoNotFitAreRefusedNotTrapped() {
        // 99999999999s is 1e20 ns: UInt64(…) trapped before the check.
        for text in ["99999999999s", "1e308", "infs", "nan", "inf", "-1s", "1e400ms", "0x10s", "5 s", ""] {
            #expect(ConfigDuration.parse(text) == nil, "\(text)")
        }
        let error = configError(minimal + "\nsensors:\n  - {name: a, driver: simulated, interval: 99999999999s}\n")
        #expect(error?.key == "sensors.0.interval")
        #expect(error?.line == 5)
        #expect(ConfigDuration.parse("365d") == ConfigDuration.maximum)
        #expect(ConfigDuration.parse("1.5s")?.nanoseconds == 1_500_000_000)
        #expect(ConfigDuration.parse("250ms")?.nanoseconds == 250_000_000)
        #expect(ConfigDuration(seconds: 1e308) == nil)
        #expect(ConfigDuration(seconds: -.infinity) == nil)
    }

    @Test func sizesThatDoNotFitAreRefusedNotTrapped() {
        #expect(configError(minimal + "\nspool:\n  capacity: 1e300MiB\n")?.key == "spool.capacity")
        #expect(configError(minimal + "\nspool:\n  capacity: 99999999999999999999\n")?.key == "spool.capacity")
    }

    @Test func namesThatCannotBeTopicLevelsAreRefused() {
        for id in ["a/+#", "a/b", "+", "#", "", "$SYS", String(repeating: "x", count: 65), "tab\there"] {
            let error = configError("device_id: \"\(id)\"\nmqtt:\n  brokers: [mqtt://localhost:1883]\n")
            #expect(error?.key == "device_id", "\(id): \(String(describing: error))")
        }
        #expect(configError("device_id: \(String(repeating: "x", count: 64))\nmqtt:\n  brokers: [mqtt://a]\n") == nil)
        // 128 to 255-byte names went out on the wrong topic; 256 and more trapped (UInt8(count)).
        for length in [65, 128, 256] {
            let name = String(repeating: "n", count: length)
            #expect(configError(minimal + "\nsensors:\n  - {name: \(name), driver: simulated}\n")?.key == "sensors.0.name")
            #expect(configError(minimal + "\ngpio:\n  - {name: \(name), line: GPIO4}\n")?.key == "gpio.0.name")
        }
        for prefix in ["a/+", "/a", "a//b", "a/", "$aws"] {
            #expect(configError(minimal + "\n  topic_prefix: \"\(prefix)\"\n")?.key == "mqtt.topic_prefix", "\(prefix)")
        }
        #expect(configError(minimal + "\n  topic_prefix: site/line-2\n") == nil)
    }

    @Test func theSpoolRuleIsTheSpoolsOwn() {
        // 1MiB passed the check and then made `run` refuse the spool with a wrong explanation.
        #expect(configError(minimal + "\nspool:\n  capacity: 1MiB\n") == nil)
        let tooSmall = configError(minimal + "\nspool:\n  capacity: 100KiB\n")
        #expect(tooSmall?.key == "spool.capacity")
        #expect(tooSmall?.message.contains("smallest capacity") == true, "\(String(describing: tooSmall))")
    }

    @Test func checksAfterDecodingNameTheirLine() {
        let error = configError(
            minimal + "\nsensors:\n  - {name: a, driver: simulated}\n  - {name: b, driver: simulated}\n  - {name: a, driver: simulated}\n")
        #expect(error?.line == 7)
        #expect(error?.key == "sensors.2.name")
        #expect(configError("device_id: x\nmqtt:\n  brokers: [mqtt://a, \"ftp://b\"]\n")?.key == "mqtt.brokers.1")
        #expect(configError("device_id: x\nmqtt:\n  brokers: [\"mqtt://host:99999\"]\n")?.line == 3)
    }

    @Test func otherRangesMQTTImposes() {
        #expect(configError(minimal + "\n  keep_alive: 20h\n")?.key == "mqtt.keep_alive")
        #expect(configError(minimal + "\n  reconnect_min: 2m\n  reconnect_max: 1m\n")?.key == "mqtt.reconnect_min")
        #expect(configError(minimal + "\nbackfill:\n  rate: 0\n")?.key == "backfill")
        #expect(configError(minimal + "\n  max_packet_size: 100B\n")?.key == "mqtt.max_packet_size")
        #expect(configError(minimal + "\n  max_packet_size: 1GiB\n")?.key == "mqtt.max_packet_size")
        #expect(configError(minimal + "\n  max_packet_size: 1e300MiB\n")?.key == "mqtt.max_packet_size")
        #expect(configError(minimal + "\n  max_packet_size: 128KiB\n") == nil)
    }

    /// TLS files: missing, not PEM, and a key that is not the certificate's, each at its key.
    @Test func tlsFilesAreLoadedAsRunLoadsThem() throws {
        let dir = TemporaryDirectory("config-tls")
        let certificates = try Certificates(in: dir)
        try "not a certificate\n".write(toFile: dir.file("junk.pem"), atomically: true, encoding: .utf8)
        func check(_ tls: String) -> ConfigError? {
            let text = "device_id: x\nmqtt:\n  brokers: [mqtts://localhost:8883]\n  tls:\n\(tls)"
            do {
                let (config, lines) = try YAMLDecoder.decodeWithLines(AgentConfig.self, from: text, file: "t.yaml")
                try config.check(lines)
                return nil
            } catch { return error }
        }
        #expect(check("    ca_file: \(certificates.caCertificate)\n") == nil)
        #expect(check("    ca_file: \(dir.file("missing.pem"))\n")?.key == "mqtt.tls.ca_file")
        #expect(check("    ca_file: \(dir.file("junk.pem"))\n")?.key == "mqtt.tls.ca_file")
        #expect(check("    ca_file: \(dir.file("missing.pem"))\n")?.line == 5)
        #expect(check("    cert_file: \(certificates.clientCertificate)\n    key_file: \(certificates.clientKey)\n") == nil)
        let mismatch = check("    cert_file: \(certificates.clientCertificate)\n    key_file: \(certificates.strangerKey)\n")
        #expect(mismatch?.key == "mqtt.tls.key_file", "\(String(describing: mismatch))")
        #expect(check("    cert_file: \(dir.file("junk.pem"))\n    key_file: \(certificates.clientKey)\n")?.key == "mqtt.tls.cert_file")
    }

    @Test func boardFilesAreCheckedToo() {
        func boardError(_ text: String) -> ConfigError? {
            do { _ = try YAMLDecoder.decode(Board.self, from: text, file: "b.board.yaml"); return nil } catch { return error }
        }
        let good = "model: m\ngpio_chip: c\nlines: {GPIO4: 4}\nheader: {\"7\": GPIO4}\n"
        #expect(boardError(good) == nil)
        #expect(boardError("model: m\ngpio_chip: c\nlines: {GPIO4: 99}\n")?.key == "lines")
        #expect(boardError("model: m\ngpio_chip: c\nlines: {GPIO4: 4}\nheader: {\"7\": GPIO5}\n")?.key == "header")
        #expect(boardError("model: m\ngpio_chip: c\ngpio_lines: 99999999\n")?.key == "gpio_lines")
        #expect(boardError("model: m\ngpio_chip: c\nlines: {A: 1}\nwires: {A: B}\n")?.key == "wires")
    }

    @Test func brokerOrderAndSerialFiles() throws {
        let spread = try decodeConfig(minimal + "\n  broker_order: spread\n  client_id: c-7\n")
        let plain = try decodeConfig(minimal)
        #expect(spread.mqtt.brokerOrder == .spread && plain.mqtt.brokerOrder == .inOrder)
        // The wiring hands the client an order drawn from the client id.
        let client = try Agent.clientConfiguration(spread, topics: Topics(prefix: "edge", device: "pi-1"))
        #expect(client.brokerOrder == .spread(key: "c-7"))
        #expect(configError(minimal + "\n  broker_order: random\n")?.key == "mqtt.broker_order")
        for files in ["[]", "[relative/serial]"] {
            #expect(throws: ConfigError.self) {
                try YAMLDecoder.decode(Board.self, from: "model: m\ngpio_chip: c\nserial_files: \(files)\n", file: "b.board.yaml")
            }
        }
    }
}
