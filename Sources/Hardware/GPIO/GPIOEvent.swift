/// One edge seen by the kernel: which way, and when (nanoseconds on the kernel's event clock).
public struct GPIOEvent: Equatable, Sendable {
    public var rising: Bool
    public var timestamp: UInt64
    public init(rising: Bool, timestamp: UInt64) { self.rising = rising; self.timestamp = timestamp }
}
