import Glibc
import Hardware
import Testing

@testable import Sensors

/// One complete reading as the agent takes it: configure, start, collect until done. With `waits`,
/// each wait the driver asks for is slept, as the loop would (chip models that are busy for a
/// while need it); without, the models answer at once.
func reading(_ driver: any SensorDriver, configure: Bool = true, waits: Bool = false) throws -> Measurement {
    if configure { try driver.configure() }
    var wait = try driver.start()
    var m = Measurement()
    while true {
        if waits { usleep(UInt32(min(wait / 1000, 1_000_000))) }
        guard let more = try driver.collect(into: &m) else { return m }
        wait = more
    }
}

func setUp(_ name: String, at address: UInt8, options: [String: String] = [:]) throws -> (
    any SensorDriver, any SimulatedI2CDevice, SimulatedI2CBus
) {
    let bus = SimulatedI2CBus(number: 1)
    let chip = SensorCatalog.simulatedChip(for: name)!
    bus.attach(chip, at: address)
    return (try SensorCatalog.makeDriver(name, bus: bus, address: address, options: options), chip, bus)
}

@Suite struct DriversOnTheSimulatedBus {
    @Test func bme280ReadsTheWorkedExample() throws {
        let (driver, _, _) = try setUp("bme280", at: 0x76)
        let m = try reading(driver)
        #expect(m["temperature_c"] == 25.08)
        #expect(abs(m["pressure_hpa"]! - 1006.5325) < 0.0001) // 25767233 / 256 Pa
        #expect(abs(m["humidity_pct"]! - 55.0) < 0.01)
    }

    @Test func bmp280HasNoHumidity() throws {
        let (driver, _, _) = try setUp("bmp280", at: 0x77)
        let m = try reading(driver)
        #expect(m["temperature_c"] == 25.08)
        #expect(m["humidity_pct"] == nil)
    }

    @Test func wrongChipIDIsNamed() throws {
        let bus = SimulatedI2CBus(number: 1)
        bus.attach(SimulatedBME280(variant: .bmp280), at: 0x76)
        let driver = try SensorCatalog.makeDriver("bme280", bus: bus, address: 0x76, options: [:])
        #expect { try driver.configure() } throws: { "\($0)".contains("found a BMP280 (chip id 0x58): use driver bmp280") }
    }

    @Test func nackNamesBusAddressAndRegisterThenRecovers() throws {
        let (driver, chip, _) = try setUp("bme280", at: 0x76)
        let bme = chip as! SimulatedBME280
        _ = try reading(driver)
        bme.absent = true
        #expect { try reading(driver, configure: false) } throws: {
            "\($0)".hasPrefix("i2c-1 address 0x76 register 0xf4: write: no acknowledgement")
        }
        bme.absent = false
        #expect(try reading(driver)["temperature_c"] == 25.08)
    }

    @Test func stuckConversionIsReportedThenRecovers() throws {
        let (driver, chip, _) = try setUp("bme280", at: 0x76)
        let bme = chip as! SimulatedBME280
        bme.stuck = true
        #expect { try reading(driver) } throws: {
            ($0 as? SensorError).map { if case .conversionStuck = $0 { true } else { false } } ?? false
        }
        bme.stuck = false
        #expect(try reading(driver)["temperature_c"] == 25.08)
    }

    @Test func sht3xConvertsAndChecksCRC() throws {
        let (driver, chip, _) = try setUp("sht3x", at: 0x44)
        let sht = chip as! SimulatedSHT3x
        sht.rawT = 0xFFFF; sht.rawRH = 0
        var m = try reading(driver, waits: true)
        #expect(m["temperature_c"] == 130)
        #expect(m["humidity_pct"] == 0)
        sht.rawT = 0; sht.rawRH = 0xFFFF
        m = try reading(driver, configure: false)
        #expect(m["temperature_c"] == -45)
        #expect(m["humidity_pct"] == 100)
        sht.corruptCRC = true
        #expect { try reading(driver, configure: false) } throws: { "\($0)".hasPrefix("CRC mismatch in measurement word 0") }
        sht.corruptCRC = false
        sht.stuck = true
        #expect { try reading(driver, configure: false) } throws: { "\($0)".hasPrefix("conversion stuck: SHT3x still converting") }
        sht.stuck = false
        #expect(try reading(driver, waits: true)["temperature_c"] == -45)
    }

    /// The soft reset's 1.5 ms (SHT3x) and 1 ms (SHT4x), and the SHT4x's serial number's 1 ms,
    /// are waits the driver returns to the loop: configure sends the reset and nothing else, and
    /// the chip (busy after a reset, as the model is) is next spoken to in collect.
    @Test(
        arguments: [
            ("sht3x", [[0x30, 0xA2]], [[0x30, 0xA2], [0xF3, 0x2D], [0x24, 0x00]]),
            ("sht4x", [[0x94]], [[0x94], [0x89], [0xFD]]),
        ] as [(String, [[UInt8]], [[UInt8]])])
    func sensirionResetIsAStepNotASleep(driverName: String, afterConfigure: [[UInt8]], afterReading: [[UInt8]]) throws {
        let (driver, chip, _) = try setUp(driverName, at: 0x44)
        let sht = chip as! SimulatedCommandDevice
        sht.recordsCommands = true
        try driver.configure()
        #expect(sht.commands == afterConfigure)
        #expect(try driver.start() > 0) // the rest of the reset, for the loop to wait
        #expect(sht.commands == afterConfigure)
        #expect(try reading(driver, configure: false, waits: true)["humidity_pct"] != nil)
        #expect(sht.commands == afterReading)
        // Spoken to before the reset is over, the chip does not answer: the wait is real.
        try driver.configure()
        #expect(throws: SensorError.self) { _ = try reading(driver, configure: false) }
    }

    @Test func sht4xCropsHumidityAndChecksCRC() throws {
        let (driver, chip, _) = try setUp("sht4x", at: 0x44)
        let sht = chip as! SimulatedSHT4x
        sht.rawRH = 0
        #expect(try reading(driver, waits: true)["humidity_pct"] == 0) // -6 %RH cropped to 0
        sht.rawRH = 0xFFFF
        #expect(try reading(driver, configure: false)["humidity_pct"] == 100) // 119 %RH cropped
        #expect((driver as! SHT4x).serialNumber == 0x0F2B_7A11)
        sht.corruptCRC = true
        #expect(throws: SensorError.self) { _ = try reading(driver, waits: true) }
    }

    /// Datasheet 7.4: nothing may be sent for 40 ms after power-on. The chip model answers nothing
    /// before then; the driver's first step waits it out instead of failing the first reading.
    @Test func aht20WaitsForPowerOnInitialisesConvertsAndChecks() throws {
        let (driver, chip, _) = try setUp("aht20", at: 0x38)
        let aht = chip as! SimulatedAHT20
        aht.calibrated = false
        aht.poweredOnAt = monotonicNanoseconds()
        try driver.configure()
        let wait = try driver.start()
        #expect(wait > 30_000_000 && wait <= 40_000_000)
        usleep(UInt32(wait / 1000))
        var first = Measurement()
        var steps = 0
        while let more = try driver.collect(into: &first) { usleep(UInt32(more / 1000)); steps += 1 }
        #expect(steps == 2) // initialise (10 ms), then the measurement (80 ms)
        #expect(first["humidity_pct"] == 50)
        let m = try reading(driver)
        #expect(aht.calibrated)
        #expect(m["humidity_pct"] == 50)
        let expected: Double = Double(0x66666) / 1_048_576 * 200 - 50
        #expect(m["temperature_c"] == expected)
        aht.stuck = true
        #expect { try reading(driver) } throws: { "\($0)".contains("busy") }
        aht.stuck = false
        aht.corruptCRC = true
        #expect { try reading(driver) } throws: { "\($0)".hasPrefix("CRC mismatch") }
    }

    @Test func bh1750AndVeml7700() throws {
        let (bh, _, _) = try setUp("bh1750", at: 0x23)
        #expect(abs(try reading(bh)["illuminance_lux"]! - 28066.67) < 0.01)
        let (veml, chip, _) = try setUp("veml7700", at: 0x10, options: ["gain": "2", "integration_ms": "800"])
        (chip as! SimulatedVEML7700).counts = 1000
        #expect(abs(try reading(veml)["illuminance_lux"]! - 4.2) < 1e-9)
        #expect((chip as! SimulatedVEML7700).registers[0] == 0b01 << 11 | 0b0011 << 6) // gain 2, 800 ms, powered on
        (chip as! SimulatedVEML7700).registers[7] = 0x0055
        #expect { try veml.configure() } throws: { "\($0)".contains("expected VEML7700") }
    }

    @Test func adsConvertsEachChannelInTurn() throws {
        let (driver, chip, _) = try setUp("ads1115", at: 0x48, options: ["channels": "0, 1,2,3", "gain": "4.096"])
        let m = try reading(driver)
        #expect(m.fields.map { "\($0.key)" } == ["ain0_v", "ain1_v", "ain2_v", "ain3_v"])
        #expect(m["ain0_v"] == 16000 * 4.096 / 32768)
        #expect(m["ain2_v"] == -4.096 / 32768)
        (chip as! SimulatedADS1115).stuck = true
        #expect { try reading(driver) } throws: { "\($0)".contains("OS bit") }
        #expect(throws: SensorError.self) { _ = try setUp("ads1115", at: 0x48, options: ["channels": "4"]) }
        #expect(throws: SensorError.self) { _ = try setUp("ads1115", at: 0x48, options: ["gain": "3"]) }
    }

    @Test func ina219MeasuresWithItsCalibration() throws {
        let (driver, chip, _) = try setUp("ina219", at: 0x40)
        let ina = chip as! SimulatedINA219
        ina.shuntMillivolts = 20; ina.busVolts = 12
        let m = try reading(driver)
        #expect(ina.registers[5] == 4194)
        #expect(m["bus_voltage_v"] == 12)
        #expect(m["shunt_voltage_mv"] == 20)
        // Current register = 2000 x 4194 / 4096 = 2047 counts of 97.66 uA = 0.1999 A (Equation 4).
        #expect(abs(m["current_a"]! - 0.2) < 0.001)
        #expect(abs(m["power_w"]! - 2.4) < 0.01)
        ina.stuck = true
        #expect { try reading(driver, configure: false) } throws: { "\($0)".contains("conversion-ready") }
        ina.registers[0] = 0x1234
        let other = SimulatedTemperatureChip(.tmp102, raw: 0)
        let bus = SimulatedI2CBus(number: 1); bus.attach(other, at: 0x40)
        #expect { try SensorCatalog.makeDriver("ina219", bus: bus, address: 0x40, options: [:]).configure() } throws: {
            "\($0)".contains("expected INA219")
        }
        #expect { try SensorCatalog.makeDriver("ina219", bus: bus, address: 0x40, options: ["shunt_ohm": "0.1"]) } throws: {
            "\($0)" == "option: ina219: unknown option 'shunt_ohm'"
        }
    }

    @Test func temperatureChips() throws {
        let (tmp, tmpChip, _) = try setUp("tmp102", at: 0x48)
        (tmpChip as! SimulatedTemperatureChip).raw = 0xE700 // -25 °C
        #expect(try reading(tmp)["temperature_c"] == -25)
        let (lm, _, _) = try setUp("lm75", at: 0x49)
        #expect(try reading(lm)["temperature_c"] == 25)
        let (mcp, mcpChip, _) = try setUp("mcp9808", at: 0x18)
        #expect(try reading(mcp)["temperature_c"] == 25)
        (mcpChip as! SimulatedTemperatureChip).registers[6] = 0x1234
        #expect { try mcp.configure() } throws: { "\($0)".contains("expected MCP9808") }
    }

    @Test func scanNamesChipsByTheirIDRegisters() {
        let bus = SimulatedI2CBus(number: 1)
        bus.attach(SimulatedBME280(), at: 0x76)
        bus.attach(SimulatedBME280(variant: .bmp280), at: 0x77)
        bus.attach(SimulatedTemperatureChip(.mcp9808, raw: 0), at: 0x18)
        bus.attach(SimulatedVEML7700(), at: 0x10)
        bus.attach(SimulatedINA219(), at: 0x40)
        #expect(SensorCatalog.identify(bus: bus, address: 0x76) == "BME280 (chip id 0x60)")
        #expect(SensorCatalog.identify(bus: bus, address: 0x77) == "BMP280 (chip id 0x58)")
        #expect(SensorCatalog.identify(bus: bus, address: 0x18) == "MCP9808 (manufacturer 0x0054, device 0x04)")
        #expect(SensorCatalog.identify(bus: bus, address: 0x10) == "VEML7700 (id 0x81)")
        #expect(SensorCatalog.identify(bus: bus, address: 0x40) == "maybe ina219")
        #expect(bus.probe(address: 0x76))
        #expect(!bus.probe(address: 0x50))
    }
}

@Suite struct Expanders {
    @Test func pcf8574InputsAndOutputs() throws {
        let bus = SimulatedI2CBus(number: 1)
        let chip = SimulatedPCF8574()
        bus.attach(chip, at: 0x20)
        let expander = try PCF8574(name: "ex", bus: bus, address: 0x20)
        let relay = try expander.requestOutput(offset: 0, GPIOOutputOptions(initial: false))
        #expect(chip.latch == 0xFE)
        try relay.set(true)
        #expect(chip.latch == 0xFF)
        let button = try expander.requestInput(offset: 3, GPIOInputOptions(bias: .pullUp))
        #expect(try button.value() == true)
        chip.external = 0xF7
        #expect(try button.value() == false)
        #expect(button.eventDescriptor == nil)
        #expect(throws: GPIOError.self) { try expander.requestInput(offset: 3, GPIOInputOptions()) }
        #expect(throws: GPIOError.self) { try expander.requestInput(offset: 4, GPIOInputOptions(bias: .pullDown)) }
        chip.absent = true
        #expect { try relay.set(false) } throws: { "\($0)".contains("no acknowledgement") }
    }

    @Test func mcp23017PortsPullUpsAndOutputs() throws {
        let bus = SimulatedI2CBus(number: 1)
        let chip = SimulatedMCP23017()
        bus.attach(chip, at: 0x20)
        let expander = try MCP23017(name: "ex", bus: bus, address: 0x20)
        let out = try expander.requestOutput(offset: 9, GPIOOutputOptions(initial: true)) // B1
        #expect(chip.pins & (1 << 9) != 0)
        #expect(chip.registers[0x01] & 0x02 == 0) // IODIRB bit 1: output
        try out.set(false)
        #expect(chip.pins & (1 << 9) == 0)
        let input = try expander.requestInput(offset: 2, GPIOInputOptions(bias: .pullUp, activeLow: true))
        #expect(chip.registers[0x0C] & 0x04 != 0) // GPPUA bit 2
        #expect(try input.value() == false) // pulled up, active low: inactive
        chip.driven = 1 << 2; chip.external = 0
        #expect(try input.value() == true)
    }
}

@Suite struct GPIOLogic {
    @Test func simulatedChipDeliversEdgesThroughItsDescriptor() throws {
        let chip = SimulatedGPIOChip(lineCount: 8)
        var time: UInt64 = 1_000
        chip.now = { time }
        chip.wire(output: 5, to: 6)
        let input = try chip.requestInput(offset: 6, GPIOInputOptions(edge: .both))
        let output = try chip.requestOutput(offset: 5, GPIOOutputOptions(initial: false))
        #expect(input.eventDescriptor != nil)
        try output.set(true)
        time = 2_000
        try output.set(false)
        var events: [GPIOEvent] = []
        try input.readEvents { events.append($0) }
        #expect(events == [GPIOEvent(rising: true, timestamp: 1_000), GPIOEvent(rising: false, timestamp: 2_000)])
        #expect(throws: GPIOError.self) { try chip.requestOutput(offset: 5, GPIOOutputOptions()) }
        #expect(throws: GPIOError.self) { try chip.requestInput(offset: 8, GPIOInputOptions()) }
    }

    @Test func debounceReportsOneChangePerBurstAndNoneForGlitches() {
        var d = Debouncer(interval: 20, initial: false)
        d.edge(at: 100); d.edge(at: 105); d.edge(at: 110) // bouncing contact
        #expect(d.settle(level: true, now: 125) == nil) // not quiet for 20 yet
        let change = d.settle(level: true, now: 130)
        #expect(change?.level == true && change?.since == 100)
        d.edge(at: 200); d.edge(at: 205) // a glitch back to the same level
        #expect(d.settle(level: true, now: 300) == nil)
        #expect(d.reported == true)
    }

    @Test func pulseCounterFrequency() {
        var counter = PulseCounter(now: 0)
        for _ in 0..<50 { counter.pulse() }
        let r = counter.report(now: 10_000_000_000)
        #expect(r.total == 50 && r.hertz == 5)
        #expect(counter.report(now: 20_000_000_000).hertz == 0)
    }
}
