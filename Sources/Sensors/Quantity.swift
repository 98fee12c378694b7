/// What one field of a reading measures: its JSON key (the unit in the name, `temperature_c`), a
/// label, the unit and the kind of quantity in the words Home Assistant uses (`device_class`).
/// Drivers add fields through these, and declare them before any reading (`SensorDriver.quantities`),
/// so the unit a consumer is told is the one the driver writes: there is no second table to drift.
/// Static strings only: a reading copies one per field, and they need no reference counting.
public struct Quantity: Sendable, Equatable {
    public let key: StaticString
    public let label: StaticString
    public let unit: StaticString
    /// Home Assistant's sensor device class; nil where it has none for this quantity.
    public let deviceClass: StaticString?

    public init(_ key: StaticString, _ label: StaticString, unit: StaticString, deviceClass: StaticString?) {
        self.key = key
        self.label = label
        self.unit = unit
        self.deviceClass = deviceClass
    }

    public var keyString: String { "\(key)" }

    public static func == (a: Quantity, b: Quantity) -> Bool { a.keyString == b.keyString }

    public static let temperature = Quantity("temperature_c", "Temperature", unit: "°C", deviceClass: "temperature")
    public static let humidity = Quantity("humidity_pct", "Humidity", unit: "%", deviceClass: "humidity")
    public static let pressure = Quantity("pressure_hpa", "Pressure", unit: "hPa", deviceClass: "atmospheric_pressure")
    public static let illuminance = Quantity("illuminance_lux", "Illuminance", unit: "lx", deviceClass: "illuminance")
    public static let busVoltage = Quantity("bus_voltage_v", "Bus voltage", unit: "V", deviceClass: "voltage")
    public static let shuntVoltage = Quantity("shunt_voltage_mv", "Shunt voltage", unit: "mV", deviceClass: "voltage")
    public static let current = Quantity("current_a", "Current", unit: "A", deviceClass: "current")
    public static let power = Quantity("power_w", "Power", unit: "W", deviceClass: "power")
}
