/// GPIO lines: a Linux GPIO character device through libgpiod, an I2C IO expander, or a simulated
/// chip. The agent depends on these protocols only.
public protocol GPIOChip: AnyObject {
    /// `gpiochip0`, or the expander's name.
    var name: String { get }
    /// The driver's label: `pinctrl-bcm2711`, `pinctrl-rp1`, `gpio-sim.0-node0`, ...
    var label: String { get }
    var lineCount: Int { get }
    func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput
    func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput
}

public enum GPIOBias: Sendable { case asIs, disabled, pullUp, pullDown }
public enum GPIOEdge: Sendable { case rising, falling, both }

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

public struct GPIOOutputOptions: Sendable {
    public var consumer: String
    public var initial: Bool
    public var activeLow: Bool

    public init(consumer: String = "edge-agent", initial: Bool = false, activeLow: Bool = false) {
        self.consumer = consumer; self.initial = initial; self.activeLow = activeLow
    }
}

/// One edge seen by the kernel: which way, and when (nanoseconds on the kernel's event clock).
public struct GPIOEvent: Equatable, Sendable {
    public var rising: Bool
    public var timestamp: UInt64
    public init(rising: Bool, timestamp: UInt64) { self.rising = rising; self.timestamp = timestamp }
}

public protocol GPIOInput: AnyObject {
    /// The logical level (after active-low inversion).
    func value() throws(GPIOError) -> Bool
    /// Readable when edge events wait; nil when the line has to be polled (IO expanders).
    var eventDescriptor: Int32? { get }
    /// Reads the events waiting, without blocking.
    func readEvents(_ handler: (GPIOEvent) -> Void) throws(GPIOError)
    /// Whether the kernel debounces the events (the requested `debounce`), so the loop need not.
    var debouncedByKernel: Bool { get }
}

public extension GPIOInput {
    var debouncedByKernel: Bool { false }
}

public protocol GPIOOutput: AnyObject {
    /// The level last set (logical, after active-low inversion).
    var value: Bool { get }
    func set(_ value: Bool) throws(GPIOError)
}

public struct GPIOError: Error, Equatable, CustomStringConvertible {
    public let chip: String
    public let line: Int?
    public let operation: String
    public let errno: Int32

    public init(chip: String, line: Int?, operation: String, errno: Int32) {
        self.chip = chip; self.line = line; self.operation = operation; self.errno = errno
    }

    public var description: String {
        var text = "gpio \(chip)"
        if let line { text += " line \(line)" }
        text += ": \(operation)"
        if errno != 0 { text += ": \(String(cString: strerror(errno)))" }
        return text
    }
}

#if canImport(Glibc)
import Glibc
#endif
