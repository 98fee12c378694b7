import Hardware

/// One reading's values, with their units in the key names (`temperature_c`, `pressure_hpa`).
/// Storage is reserved once and reused: a reading allocates nothing, and starting one over costs a
/// store (an array's `removeAll(keepingCapacity:)` cost 65 instructions, each append 34).
public final class Measurement {
    public struct Field {
        /// The quantity's key: the rest of it (label, unit, class) is the driver's declaration,
        /// and a field this small copies in a few instructions.
        public let key: StaticString
        public let value: Double
        /// Decimal places worth printing (the chip's resolution).
        public let decimals: Int
        public var keyString: String { "\(key)" }
    }

    private var storage: UnsafeMutablePointer<Field>
    private var capacity = 16
    private var count = 0

    public init() { storage = .allocate(capacity: capacity) }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// This reading's fields, in the order the driver added them; valid until the next `reset`.
    public var fields: UnsafeBufferPointer<Field> { UnsafeBufferPointer(start: storage, count: count) }

    public func reset() {
        storage.deinitialize(count: count) // a no-op for these plain values; says what happens
        count = 0
    }

    public func add(_ quantity: Quantity, _ value: Double, decimals: Int) {
        if count == capacity { grow() } // only a driver configured with more than 16 channels
        (storage + count).initialize(to: Field(key: quantity.key, value: value, decimals: decimals))
        count += 1
    }

    public subscript(key: String) -> Double? {
        fields.first { $0.key.description == key }?.value
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<Field>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }
}
