#if canImport(Glibc)
import Glibc
#endif

/// A simulated GPIO chip for tests and for running without hardware. Inputs are driven with
/// `drive(_:high:)` (or through a wire from an output of the same chip, so a command that sets
/// an output produces an input event); events wake an event loop through a pipe, exactly as a
/// kernel line's event descriptor does.
public final class SimulatedGPIOChip: GPIOChip {
    public let name: String
    public let label = "edge-agent-simulated"
    public let lineCount: Int
    /// Physical level of each line.
    public private(set) var levels: [Bool]
    /// What the pull resistor would do to an undriven line: true high, false low.
    private var pulls: [Bool?]
    /// Weak, so dropping a line releases it (lines hold their chip strongly).
    private var inputs: [Int: WeakInput] = [:]
    struct WeakInput { weak var input: SimulatedGPIOInput? }
    private var requested: Set<Int> = []
    /// Output offset -> input offsets it is wired to.
    private var wires: [Int: [Int]] = [:]
    /// The clock for event timestamps (monotonic nanoseconds); tests may replace it.
    public var now: () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public init(name: String = "gpiochip-sim", lineCount: Int = 54) {
        self.name = name
        self.lineCount = lineCount
        levels = Array(repeating: false, count: lineCount)
        pulls = Array(repeating: nil, count: lineCount)
    }

    /// Connects an output to an input: setting the output drives the input.
    public func wire(output: Int, to input: Int) { wires[output, default: []].append(input) }

    /// Drives an input line's physical level from outside (a button, a meter's reed switch).
    public func drive(_ offset: Int, high: Bool) {
        guard offset >= 0, offset < lineCount, levels[offset] != high else { return }
        levels[offset] = high
        inputs[offset]?.input?.levelChanged(to: high, at: now())
    }

    private func claim(_ offset: Int) throws(GPIOError) {
        guard offset >= 0, offset < lineCount else {
            throw GPIOError(chip: name, line: offset, operation: "no such line (the chip has \(lineCount))", errno: 0)
        }
        guard !requested.contains(offset) else { throw GPIOError(chip: name, line: offset, operation: "request", errno: EBUSY) }
        requested.insert(offset)
    }

    public func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput {
        try claim(offset)
        switch options.bias {
        case .pullUp: pulls[offset] = true; levels[offset] = true
        case .pullDown: pulls[offset] = false; levels[offset] = false
        case .disabled, .asIs: break
        }
        let input = try SimulatedGPIOInput(chip: self, offset: offset, options: options)
        inputs[offset] = WeakInput(input: input)
        return input
    }

    public func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput {
        try claim(offset)
        let output = SimulatedGPIOOutput(chip: self, offset: offset, activeLow: options.activeLow)
        try output.set(options.initial)
        return output
    }

    func outputChanged(_ offset: Int, high: Bool) {
        levels[offset] = high
        for input in wires[offset] ?? [] { drive(input, high: high) }
    }

    func release(_ offset: Int) {
        requested.remove(offset)
        inputs[offset] = nil
    }
}
