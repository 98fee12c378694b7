public struct GPIOInputOptions: Sendable {
    public var consumer: String
    public var bias: GPIOBias
    /// Edge events to report; nil for a line that is only read.
    public var edge: GPIOEdge?
    public var activeLow: Bool
    /// Nanoseconds of quiet before an edge counts, for chips that can ask the kernel to debounce.
    public var debounce: UInt64

    public init(
        consumer: String = "edge-agent", bias: GPIOBias = .asIs, edge: GPIOEdge? = nil, activeLow: Bool = false, debounce: UInt64 = 0
    ) {
        self.consumer = consumer; self.bias = bias; self.edge = edge; self.activeLow = activeLow; self.debounce = debounce
    }
}
