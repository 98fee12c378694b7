import CGPIOLines

#if canImport(Glibc)
import Glibc
#endif

/// A GPIO chip through libgpiod, 1.6 or 2.x, whichever the system has (CGPIOLines picks at build
/// time): the kernel's GPIO character device.
///
/// Debounce: libgpiod 2 asks the kernel (uAPI v2 `debounce_period_us`, done in hardware or by the
/// kernel's own software debouncer), and its inputs say so (`debouncedByKernel`); libgpiod 1.6's
/// v1 interface has no such setting, and the agent's `Debouncer` does it on the loop instead.
public final class LinuxGPIOChip: GPIOChip {
    private let chip: OpaquePointer
    public let name: String
    public let label: String
    public let lineCount: Int

    /// "libgpiod 1.6.3" or "libgpiod 2.2.1".
    public static var library: String { String(cString: edge_gpio_library()) }

    /// Opens a chip by name (`gpiochip0`), path, number or label (`pinctrl-rp1`).
    public init(lookup description: String) throws(GPIOError) {
        guard let chip = edge_gpio_chip_open(description) else {
            throw GPIOError(chip: description, line: nil, operation: "open (by name, path, number or label)", errno: errno)
        }
        self.chip = chip
        name = String(cString: edge_gpio_chip_name(chip))
        label = String(cString: edge_gpio_chip_label(chip))
        lineCount = Int(edge_gpio_chip_lines(chip))
    }

    deinit { edge_gpio_chip_close(chip) }

    /// Every chip in /dev: (name, label, lines), for diagnostics.
    public static func all() -> [(name: String, label: String, lines: Int)] {
        final class Found { var chips: [(String, String, Int)] = [] }
        let found = Found()
        _ = withExtendedLifetime(found) {
            edge_gpio_chip_list(
                { context, name, label, lines in
                    let found = Unmanaged<Found>.fromOpaque(context!).takeUnretainedValue()
                    found.chips.append((String(cString: name!), String(cString: label!), Int(lines)))
                }, Unmanaged.passUnretained(found).toOpaque())
        }
        return found.chips
    }

    private func check(_ offset: Int) throws(GPIOError) -> UInt32 {
        guard offset >= 0, offset < lineCount else {
            throw GPIOError(chip: name, line: offset, operation: "no such line (the chip has \(lineCount))", errno: 0)
        }
        return UInt32(offset)
    }

    public func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput {
        let line = try check(offset)
        let bias: Int32 =
            switch options.bias {
            case .asIs: Int32(EDGE_GPIO_BIAS_AS_IS)
            case .disabled: Int32(EDGE_GPIO_BIAS_DISABLED)
            case .pullUp: Int32(EDGE_GPIO_BIAS_PULL_UP)
            case .pullDown: Int32(EDGE_GPIO_BIAS_PULL_DOWN)
            }
        let edge: Int32 =
            switch options.edge {
            case nil: Int32(EDGE_GPIO_EDGE_NONE)
            case .rising?: Int32(EDGE_GPIO_EDGE_RISING)
            case .falling?: Int32(EDGE_GPIO_EDGE_FALLING)
            case .both?: Int32(EDGE_GPIO_EDGE_BOTH)
            }
        let debounceMicroseconds = UInt32(clamping: options.debounce / 1000)
        guard
            let request = edge_gpio_request_input(chip, line, options.consumer, options.activeLow ? 1 : 0, bias, edge, debounceMicroseconds)
        else {
            throw GPIOError(chip: name, line: offset, operation: "request as input", errno: errno)
        }
        return LinuxGPIOInput(
            request, chip: name, offset: offset,
            debouncedByKernel: debounceMicroseconds > 0 && edge_gpio_kernel_debounce() == 1)
    }

    public func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput {
        let line = try check(offset)
        guard let request = edge_gpio_request_output(chip, line, options.consumer, options.activeLow ? 1 : 0, options.initial ? 1 : 0)
        else {
            throw GPIOError(chip: name, line: offset, operation: "request as output", errno: errno)
        }
        return LinuxGPIOOutput(request, chip: name, offset: offset, value: options.initial)
    }
}
