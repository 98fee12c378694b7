import Hardware
import Sensors
import Testing

@testable import Agent

@Suite struct SensorRunnerTests {
    /// An ADS1115 converts one channel per step: every step's field must be in the reading.
    @Test func multiStepReadingsKeepEveryField() throws {
        let bus = SimulatedI2CBus(number: 1)
        bus.attach(SimulatedADS1115(), at: 0x48)
        let driver = try SensorCatalog.makeDriver("ads1115", bus: bus, address: 0x48, options: ["channels": "0,1,2"])
        let settings = try YAMLDecoder.decode(SensorSettings.self, from: "{name: adc, driver: ads1115, interval: 1s}", file: "t.yaml")
        let runner = SensorRunner(settings: settings, driver: .success(driver), now: 0)
        var done = try runner.begin(now: 0, wallClock: 0)
        var now: UInt64 = 0
        while !done {
            now = runner.collectAt ?? now
            done = try runner.collect(now: now)
        }
        #expect(runner.measurement.fields.map { "\($0.key)" } == ["ain0_v", "ain1_v", "ain2_v"])
        // The next reading starts empty.
        _ = try runner.begin(now: now + 1_000_000_000, wallClock: 0)
        #expect(runner.measurement.fields.isEmpty)
    }
}
