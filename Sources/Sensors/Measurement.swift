import Hardware

/// One reading's values, with their units in the key names (`temperature_c`, `pressure_hpa`).
/// Quantities are static values and the storage is reused, so a reading allocates nothing.
public struct Measurement {
    public struct Field {
        public let quantity: Quantity
        public let value: Double
        /// Decimal places worth printing (the chip's resolution).
        public let decimals: Int
        public var key: StaticString { quantity.key }
    }

    public private(set) var fields: [Field] = []

    public init() { fields.reserveCapacity(16) }

    public mutating func reset() { fields.removeAll(keepingCapacity: true) }

    public mutating func add(_ quantity: Quantity, _ value: Double, decimals: Int) {
        fields.append(Field(quantity: quantity, value: value, decimals: decimals))
    }

    public subscript(key: String) -> Double? {
        fields.first { $0.key.description == key }?.value
    }
}
