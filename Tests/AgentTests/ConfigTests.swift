import Foundation
import TestSupport
import Testing

@testable import Agent

func decodeConfig(_ text: String) throws(ConfigError) -> AgentConfig {
    let (config, lines) = try YAMLDecoder.decodeWithLines(AgentConfig.self, from: text, file: "test.yaml")
    try config.check(lines, checkFiles: false)
    return config
}

func configError(_ text: String) -> ConfigError? {
    do { _ = try decodeConfig(text); return nil } catch { return error }
}

let minimal = """
    device_id: pi-1
    mqtt:
      brokers: [mqtt://localhost:1883]
    """

@Suite("Config")
struct ConfigTests {
    @Test func minimalConfigGetsDefaults() throws {
        let config = try decodeConfig(minimal)
        #expect(config.deviceID == "pi-1")
        #expect(config.board == "simulated")
        #expect(config.mqtt.topicPrefix == "edge")
        #expect(config.mqtt.keepAlive == ConfigDuration.seconds(30))
        #expect(config.spool.capacity.bytes == 64 << 20)
        #expect(config.spool.durability == .interval)
        #expect(config.spool.mode == .writeAhead)
        #expect(config.sensors.isEmpty)
    }

    @Test func fullConfig() throws {
        let config = try decodeConfig(
            """
            device_id: kitchen
            board: raspberry-pi-4b
            mqtt:
              brokers:
                - mqtts://broker-a:8883
                - mqtts://broker-b:8883
              topic_prefix: home
              keep_alive: 45s
              username: agent
              password_env: EDGE_AGENT_PASSWORD
              tls:
                ca_file: /etc/ssl/ca.pem
                alpn: [x-amzn-mqtt-ca]
            spool:
              dir: /tmp/spool
              capacity: 16MiB
              durability: always
              mode: spill
            backfill:
              rate: 20
              batch: 10
            sensors:
              - name: air
                driver: bme280
                bus: 1
                address: 0x76
                interval: 500ms
            gpio:
              - name: door
                line: GPIO17
                edge: both
                bias: pull-up
                debounce: 20ms
              - name: relay
                line: pin 11
                direction: output
                initial: false
                safe_state: false
                commandable: true
            metrics_interval: 2m
            """)
        #expect(config.mqtt.brokers.count == 2)
        #expect(config.mqtt.tls?.verify == true)
        #expect(config.mqtt.tls?.alpn == ["x-amzn-mqtt-ca"])
        #expect(config.spool.capacity.bytes == 16 << 20)
        #expect(config.spool.mode == .spill)
        #expect(config.sensors[0].address == I2CAddress(0x76))
        #expect(config.sensors[0].interval.nanoseconds == 500_000_000)
        #expect(config.gpio[0].bias == .pullUp)
        #expect(config.gpio[1].commandable)
        #expect(config.metricsInterval.nanoseconds == 120_000_000_000)
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let error = configError(minimal + "\n  keepalive: 30s\n")
        #expect(error == ConfigError(file: "test.yaml", line: 4, key: "mqtt.keepalive", message: "unknown key"))
        #expect(error?.description == "test.yaml:4: mqtt.keepalive: unknown key")
    }

    @Test func wrongTypesAndBadValuesNameTheLine() {
        #expect(configError(minimal + "\n  inflight: lots\n")?.line == 4)
        #expect(configError(minimal + "\n  inflight: lots\n")?.message.contains("whole number") == true)
        #expect(configError(minimal + "\nspool:\n  capacity: huge\n")?.key == "spool.capacity")
        #expect(configError(minimal + "\nspool:\n  durability: sometimes\n")?.line == 5)
        #expect(configError("device_id: x\nmqtt:\n  brokers: mqtt://a\n")?.message.contains("list") == true)
        #expect(configError(minimal + "\nsensors:\n  - name: a\n    driver: bme999\n")?.message.contains("unknown driver") == true)
        #expect(
            configError(minimal + "\nsensors:\n  - name: a\n    driver: bme280\n    bus: 1\n    address: 0x99\n")?.key
                == "sensors.0.address")
    }

    @Test func missingRequiredKeys() {
        #expect(configError("mqtt:\n  brokers: [mqtt://a]\n")?.key == "device_id")
        #expect(configError("device_id: x\n")?.key == "mqtt")
    }

    @Test func inlinePasswordsAreRefused() {
        #expect(configError(minimal + "\n  password: hunter2\n")?.message.contains("password_file") == true)
    }

    @Test func syntaxErrorsHaveALine() {
        let error = configError("device_id: x\nmqtt:\n  brokers: [mqtt://a\n")
        #expect(error?.line == 4)
        #expect(error?.message.hasPrefix("YAML syntax") == true)
    }

    @Test func duplicateNamesAndKeys() {
        #expect(
            configError(minimal + "\nsensors:\n  - {name: a, driver: simulated}\n  - {name: a, driver: simulated}\n")?.message.contains(
                "twice") == true)
        #expect(configError("device_id: x\ndevice_id: y\nmqtt:\n  brokers: [mqtt://a]\n")?.message.contains("twice") == true)
    }

    @Test func driverOptionsAreCheckedWithoutHardware() {
        #expect(configError(minimal + "\nsensors:\n  - {name: a, driver: sht3x}\n") == nil) // bus and address default
        let error = configError(minimal + "\nsensors:\n  - {name: a, driver: ina219, options: {shunt_ohm: '0.1'}}\n")
        #expect(error?.key == "sensors.0.options")
        #expect(error?.message == "option: ina219: unknown option 'shunt_ohm'")
        #expect(
            configError(minimal + "\nsensors:\n  - {name: a, driver: ads1115, options: {channels: '5'}}\n")?.message.contains("channels")
                == true)
        #expect(
            configError(minimal + "\ngpio:\n  - {name: b, line: '3', chip: nope}\n")?.message.contains("no expander named 'nope'") == true)
    }

    @Test func boardFilesMapPinsAndNamesToLines() throws {
        let configPath = repositoryRoot() + "/boards/example.yaml"
        for name in ["raspberry-pi-3b", "raspberry-pi-4b", "raspberry-pi-5", "raspberry-pi-zero-2w", "raspberry-pi-cm4", "simulated"] {
            let board = try Board.load(name, configPath: configPath)
            #expect(board.lineOffset("pin 11") == 17, "\(name)")
            #expect(board.lineOffset("GPIO17") == 17, "\(name)")
            #expect(board.lineOffset("pin 3") == 2, "\(name)")
            #expect(board.lineOffset("pin 1") == nil, "\(name): pin 1 is 3.3 V")
            #expect(board.i2cBus == 1)
        }
        #expect(try Board.load("raspberry-pi-5", configPath: configPath).gpioChip == "pinctrl-rp1")
        #expect(try Board.load("raspberry-pi-4b", configPath: configPath).gpioChip == "pinctrl-bcm2711")
        #expect(throws: ConfigError.self) { try Board.load("commodore-64", configPath: configPath) }
        let board = try Board.load("raspberry-pi-4b", configPath: configPath)
        func check(_ text: String) throws(ConfigError) {
            let (config, lines) = try YAMLDecoder.decodeWithLines(AgentConfig.self, from: text, file: "c.yaml")
            try config.check(lines, against: board)
        }
        #expect { try check(minimal + "\ngpio:\n  - {name: a, line: GPIO99}\n") } throws: {
            "\($0)".contains("'GPIO99' is not a line of Raspberry Pi 4 Model B")
        }
        #expect { try check(minimal + "\ngpio:\n  - {name: a, line: GPIO17}\n  - {name: b, line: pin 11}\n") } throws: {
            "\($0)".contains("c.yaml:") && "\($0)".contains("gpio.1.line: 'pin 11' is the same line as a") && !"\($0)".contains(":0:")
        }
    }

    /// Every YAML file shipped in boards/ passes the whole check, board and line conflicts
    /// included, as `edge-agent check-config` runs it.
    @Test func everyShippedFilePassesTheWholeCheck() throws {
        let directory = repositoryRoot() + "/boards"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 7)
        for name in files {
            let path = directory + "/" + name
            #expect(throws: Never.self, "\(name)") {
                if name.hasSuffix(".board.yaml") {
                    _ = try YAMLDecoder.decode(Board.self, from: readFile(path)!, file: path)
                }
                // The reference example names a real deployment's secret and certificate files.
                else {
                    _ = try AgentConfig.load(path: path, checkFiles: name != "example.yaml")
                }
            }
        }
    }
}

extension ConfigTests {
    /// The Debian package's /etc/edge-agent/config.yaml: refused as shipped, naming what is
    /// missing (the service stays skipped and says so), and passes once a device id and a broker
    /// are filled in, as the file's own comments tell the user.
    @Test func thePackagedConfigurationPassesOnceFilledIn() throws {
        let shipped = readFile(repositoryRoot() + "/debian/config.yaml")!
        let dir = TemporaryDirectory("packaged-config")
        try shipped.write(toFile: dir.file("config.yaml"), atomically: true, encoding: .utf8)
        #expect { _ = try AgentConfig.load(path: dir.file("config.yaml")) } throws: { "\($0)".contains("device_id") }
        let filled =
            shipped
            .replacingOccurrences(of: "device_id:   ", with: "device_id: greenhouse-1")
            .replacingOccurrences(of: "brokers: []  ", with: "brokers: [mqtt://192.168.1.10:1883]")
        #expect(filled != shipped)
        try filled.write(toFile: dir.file("config.yaml"), atomically: true, encoding: .utf8)
        let config = try AgentConfig.load(path: dir.file("config.yaml"))
        #expect(config.deviceID == "greenhouse-1" && config.spool.dir == "/var/lib/edge-agent/spool")
    }
}

func repositoryRoot() -> String {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}
