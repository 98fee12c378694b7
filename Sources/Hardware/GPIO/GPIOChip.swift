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

public extension GPIOInput {
    var debouncedByKernel: Bool { false }
}

#if canImport(Glibc)
import Glibc
#endif
