/// A driver's `options:` from the config file. Each driver takes the keys it knows; any key left
/// over is an error, so a typo (`shunt_ohm`) is reported instead of silently ignored.
public struct DriverOptions {
    private var remaining: [String: String]
    public let driver: String

    public init(_ options: [String: String], driver: String) {
        remaining = options
        self.driver = driver
    }

    public mutating func string(_ key: String) -> String? { remaining.removeValue(forKey: key) }

    public mutating func number(_ key: String, default value: Double, in range: ClosedRange<Double>) throws(SensorError) -> Double {
        guard let text = remaining.removeValue(forKey: key) else { return value }
        guard let number = Double(text), range.contains(number) else {
            throw .option("\(driver): \(key) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return number
    }

    public mutating func choice<T>(_ key: String, default value: T, _ choices: [(String, T)]) throws(SensorError) -> T {
        guard let text = remaining.removeValue(forKey: key) else { return value }
        guard let match = choices.first(where: { $0.0 == text }) else {
            throw .option("\(driver): \(key) must be one of \(choices.map(\.0).joined(separator: ", ")), not '\(text)'")
        }
        return match.1
    }

    /// Throws if any key was not taken by the driver.
    public func finish() throws(SensorError) {
        if let key = remaining.keys.sorted().first {
            throw .option("\(driver): unknown option '\(key)'")
        }
    }
}
