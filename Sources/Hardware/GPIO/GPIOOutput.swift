public protocol GPIOOutput: AnyObject {
    /// The level last set (logical, after active-low inversion).
    var value: Bool { get }
    func set(_ value: Bool) throws(GPIOError)
}
