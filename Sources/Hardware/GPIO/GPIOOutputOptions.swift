public struct GPIOOutputOptions: Sendable {
    public var consumer: String
    public var initial: Bool
    public var activeLow: Bool

    public init(consumer: String = "edge-agent", initial: Bool = false, activeLow: Bool = false) {
        self.consumer = consumer; self.initial = initial; self.activeLow = activeLow
    }
}
