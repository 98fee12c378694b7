import Hardware

/// One reading's values, with their units in the key names (`temperature_c`, `pressure_hpa`).
/// Quantities are static values and the storage is reused, so a reading allocates nothing.
public struct Measurement {
    public struct Field {
        /// The quantity's key: the rest of it (label, unit, class) is the driver's declaration,
        /// and a field this small copies in a few instructions.
        public let key: StaticString
        public let value: Double
        /// Decimal places worth printing (the chip's resolution).
        public let decimals: Int
        public var keyString: String { "\(key)" }
    }

    public private(set) var fields: [Field] = []

    public init() { fields.reserveCapacity(16) }

    public mutating func reset() { fields.removeAll(keepingCapacity: true) }

    public mutating func add(_ quantity: Quantity, _ value: Double, decimals: Int) {
        fields.append(Field(key: quantity.key, value: value, decimals: decimals))
    }

    public subscript(key: String) -> Double? {
        fields.first { $0.key.description == key }?.value
    }
}
