import Hardware
import Testing

@testable import Sensors

/// Home Assistant is told each field's unit and class from `SensorDriver.quantities`, before any
/// reading; these tests hold every driver to writing exactly those fields, in that order.
@Suite struct DeclaredQuantities {
    static let cases: [(driver: String, options: [String: String])] =
        DriverKind.all.filter { $0.family == .sensor && $0.model != nil }.map { ($0.name, [:]) } + [
            ("ads1115", ["channels": "0,1,2,3"]), ("ads1015", ["channels": "0-1,2-3"]),
        ]

    @Test(arguments: 0..<cases.count) func everyDriverWritesWhatItDeclares(index: Int) throws {
        let (name, options) = DeclaredQuantities.cases[index]
        let address = SensorCatalog.defaultAddress(name)!
        let (driver, _, _) = try setUp(name, at: address, options: options)
        let m = try reading(driver, waits: true)
        #expect(m.fields.map(\.keyString) == driver.quantities.map(\.keyString), "\(name)")
        #expect(!driver.quantities.isEmpty)
    }

    @Test func keysAreUniqueAndUnitsAreNamedInTheKey() {
        let all: [Quantity] = [.temperature, .humidity, .pressure, .illuminance, .busVoltage, .shuntVoltage, .current, .power]
        #expect(Set(all.map(\.keyString)).count == all.count)
        // The key's suffix and the unit say the same thing (`_c` is °C, `_mv` is mV).
        let suffixes = ["°C": "_c", "%": "_pct", "hPa": "_hpa", "lx": "_lux", "V": "_v", "mV": "_mv", "A": "_a", "W": "_w"]
        for q in all { #expect(q.keyString.hasSuffix(suffixes["\(q.unit)"] ?? "?"), "\(q.keyString) in \(q.unit)") }
    }
}
