import Hardware
import Testing

@testable import Sensors

// Each driver's first test is its datasheet's own worked example (or conversion table), then
// ranges and edge values.

@Suite struct BME280Compensation {
    /// BMP280 datasheet, section 3.12 "Calculating pressure and temperature", worked example:
    /// dig_T1 = 27504 ... dig_P9 = 6000, adc_T = 519888, adc_P = 415148 give t_fine = 128422,
    /// T = 25.08 °C and p = 100653.27 Pa (double precision; the 64-bit integer code gives 25767233 / 256).
    @Test func datasheetWorkedExample() {
        let c = BME280.Calibration(
            t1: 27504, t2: 26435, t3: -1000, p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140,
            p6: -7, p7: 15500, p8: -14600, p9: 6000)
        let (t, tFine) = BME280.compensateTemperature(519_888, c)
        #expect(tFine == 128_422)
        #expect(t == 2508)
        let p = BME280.compensatePressure(415_148, tFine: tFine, c)
        #expect(p == 25_767_233)
        #expect(abs(Double(p) / 256 - 100_653.27) < 0.05)
    }

    /// Humidity: the datasheet's int32 code agrees with its double-precision formula (section
    /// 8.1, bme280_compensate_H_double), evaluated separately: 55.0007 %RH for these inputs;
    /// and it clamps to 0...100 %RH at both ends.
    @Test func humidityFormula() {
        let c = BME280.Calibration(t1: 27504, t2: 26435, t3: -1000, p1: 36477, h1: 75, h2: 362, h3: 0, h4: 313, h5: 50, h6: 30)
        let h = BME280.compensateHumidity(30_000, tFine: 128_422, c)
        #expect(abs(Double(h) / 1024 - 55.0007) < 0.01, "got \(Double(h) / 1024)")
        #expect(BME280.compensateHumidity(0, tFine: 128_422, c) == 0)
        #expect(BME280.compensateHumidity(65_535, tFine: 128_422, c) == 102_400) // clamped at 100 %RH
    }

    @Test func garbageCalibrationDoesNotTrap() {
        let c = BME280.Calibration(
            t1: 0xFFFF, t2: .min, t3: .max, p1: 1, p2: .min, p3: .max, p4: .min, p5: .max, p6: .min, p7: .max, p8: .min, p9: .max,
            h1: 255, h2: .min, h3: 255, h4: .max, h5: .min, h6: .min)
        let (_, tFine) = BME280.compensateTemperature(.max, c)
        _ = BME280.compensatePressure(.max, tFine: tFine, c)
        _ = BME280.compensateHumidity(.max, tFine: tFine, c)
    }
}

@Suite struct SensirionCRC {
    /// SHT3x-DIS datasheet Table 20 (and SHT4x datasheet section 4.4): CRC-8 of 0xBEEF is 0x92.
    @Test func datasheetExample() { #expect(crc8Sensirion([0xBE, 0xEF]) == 0x92) }
    @Test func emptyAndZero() {
        #expect(crc8Sensirion([]) == 0xFF)
        #expect(crc8Sensirion([0x00, 0x00]) == 0x81)
    }
}

@Suite struct ConversionTables {
    /// TMP102 datasheet Table 5 (12-bit) and Table 6 (13-bit extended mode).
    @Test func tmp102Table5() {
        let table: [(UInt16, Double)] = [
            (0x7FF, 127.9375), (0x640, 100), (0x500, 80), (0x4B0, 75), (0x320, 50), (0x190, 25),
            (0x004, 0.25), (0x000, 0), (0xFFC, -0.25), (0xE70, -25), (0xC90, -55),
        ]
        for (code, celsius) in table { #expect(TMP102.celsius(code << 4) == celsius, "code \(code)") }
        #expect(TMP102.celsius(0x0960 << 3 | 1) == 150) // Table 6: 150 °C = 0x0960 in extended mode
    }

    /// LM75 datasheet (TI SNOS808, Table 1): 9-bit codes; LM75B (NXP, Table 10): 11-bit codes.
    @Test func lm75Tables() {
        let nine: [(UInt16, Double)] = [(0x0FA, 125), (0x032, 25), (0x001, 0.5), (0x000, 0), (0x1FF, -0.5), (0x1CE, -25), (0x192, -55)]
        for (code, celsius) in nine { #expect(LM75.celsius(code << 7, bits: 9) == celsius, "code \(code)") }
        let eleven: [(UInt16, Double)] = [(0x3F8, 127), (0x0C8, 25), (0x001, 0.125), (0x7FF, -0.125), (0x738, -25), (0x648, -55)]
        for (code, celsius) in eleven { #expect(LM75.celsius(code << 5, bits: 11) == celsius, "code \(code)") }
    }

    /// MCP9808 datasheet section 5.1.3: 0x0190 = +25 °C, 0x1FF0 = -1 °C; flag bits ignored.
    @Test func mcp9808Equation51() {
        #expect(MCP9808.celsius(0x0190) == 25)
        #expect(MCP9808.celsius(0x0191) == 25.0625)
        #expect(MCP9808.celsius(0x1FF0) == -1)
        #expect(MCP9808.celsius(0xE190) == 25) // TA vs TCRIT/TUPPER/TLOWER flags set
        #expect(MCP9808.celsius(0x1E70) == -25)
    }

    /// BH1750 datasheet page 11: high byte 1000_0011, low byte 1001_0000 -> 28067 lx.
    @Test func bh1750Example() {
        #expect(abs(BH1750.lux(high: 0b1000_0011, low: 0b1001_0000) - 28066.67) < 0.01)
        #expect(BH1750.lux(high: 0, low: 0) == 0)
        #expect(abs(BH1750.lux(high: 0xFF, low: 0xFF) - 54612.5) < 0.01)
    }

    /// VEML7700, datasheet rev. 1.7 resolution table: 0.0042 lx/count at gain 2, 800 ms (max 275 lx);
    /// 0.0672 at gain 1, 100 ms; 2.1504 at gain 1/8, 25 ms (max 140,929 lx); correction above 1000 lx.
    @Test func veml7700Resolution() {
        #expect(abs(VEML7700.lux(counts: 1000, gain: 2, integrationMilliseconds: 800) - 4.2) < 1e-9)
        #expect(abs(VEML7700.lux(counts: 65535, gain: 2, integrationMilliseconds: 800) - 275.247) < 1e-3)
        #expect(abs(VEML7700.lux(counts: 1000, gain: 1, integrationMilliseconds: 100) - 67.2) < 1e-9)
        #expect(abs(VEML7700.lux(counts: 400, gain: 0.125, integrationMilliseconds: 25) - 860.16) < 1e-9) // below 1000: raw
        let x = 2.1504 * 60000 // 129,024 lx raw: the application note's polynomial
        let corrected = 6.0135e-13 * x * x * x * x - 9.3924e-9 * x * x * x + 8.1488e-5 * x * x + 1.0023 * x
        #expect(abs(VEML7700.lux(counts: 60000, gain: 0.125, integrationMilliseconds: 25) - corrected) < 1e-6)
    }

    /// ADS1115 datasheet Table 3 (output codes at FS = 2.048 V): 0x7FFF = +FS (2^15 - 1)/2^15,
    /// 0x0001 = +62.5 uV, 0x0000 = 0, 0xFFFF = -62.5 uV, 0x8000 = -FS. ADS1015: 1 mV per count.
    @Test func adsOutputCodes() throws {
        let ads = try ADS1x15(
            bus: SimulatedI2CBus(number: 1), address: 0x48, model: .ads1115, options: DriverOptions([:], driver: "ads1115"))
        #expect(ads.volts(0x7FFF) == 2.048 * 32767 / 32768)
        #expect(ads.volts(0x0001) == 0.0000625)
        #expect(ads.volts(0x0000) == 0)
        #expect(ads.volts(0xFFFF) == -0.0000625)
        #expect(ads.volts(0x8000) == -2.048)
        let ads1015 = try ADS1x15(
            bus: SimulatedI2CBus(number: 1), address: 0x48, model: .ads1015, options: DriverOptions([:], driver: "ads1015"))
        #expect(ads1015.volts(0x7FF0) == 2.047)
        #expect(ads1015.volts(0x0010) == 0.001)
        #expect(ads1015.volts(0x8000) == -2.048)
    }

    /// INA219 datasheet section 8.5.1 with the breakout boards' 0.1 ohm shunt and 3.2 A:
    /// Current_LSB = 3.2 / 32768 = 97.66 uA, Cal = trunc(0.04096 / (97.66 uA x 0.1)) = 4194.
    @Test func ina219Calibration() throws {
        let (lsb, cal) = try INA219.calibrate(shuntOhms: 0.1, maxCurrent: 3.2)
        #expect(cal == 4194)
        #expect(abs(lsb - 0.04096 / (4194 * 0.1)) < 1e-12)
        // 32 V / 2 A with 0.1 ohm (Adafruit's 32V_2A): Cal 4096, 0.1 mA per bit.
        let (lsb2, cal2) = try INA219.calibrate(shuntOhms: 0.1, maxCurrent: 3.2768)
        #expect(cal2 == 4096)
        #expect(abs(lsb2 - 0.0001) < 1e-12)
        #expect(throws: SensorError.self) { try INA219.calibrate(shuntOhms: 100, maxCurrent: 100) }
    }

    /// DS18B20: the kernel's w1_slave text; 0x0172 = 23.125 °C (datasheet Table 1 scale, 1/16 °C).
    @Test func ds18b20Parsing() throws {
        let good = Array("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n".utf8)
        #expect(try DS18B20.parse(good[...]) == 23.125)
        let negative = Array("5e ff 4b 46 7f ff 0c 10 1c : crc=1c YES\n5e ff 4b 46 7f ff 0c 10 1c t=-10125\n".utf8)
        #expect(try DS18B20.parse(negative[...]) == -10.125)
        let badCRC = Array("72 01 4b 46 7f ff 0e 10 58 : crc=57 NO\n72 01 4b 46 7f ff 0e 10 58 t=23125\n".utf8)
        #expect(throws: SensorError.checksum(what: "DS18B20 scratchpad (the kernel reports crc NO)", received: 0x58, computed: 0x57)) {
            try DS18B20.parse(badCRC[...])
        }
        let powerOn = Array("50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n".utf8)
        #expect(throws: SensorError.self) { try DS18B20.parse(powerOn[...]) }
        #expect(throws: SensorError.self) { try DS18B20.parse(Array("garbage".utf8)[...]) }
    }
}
