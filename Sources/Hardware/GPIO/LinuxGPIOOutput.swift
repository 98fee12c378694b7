import CGPIOLines

#if canImport(Glibc)
import Glibc
#endif

final class LinuxGPIOOutput: GPIOOutput {
    private let request: OpaquePointer
    let chip: String
    let offset: Int
    private(set) var value: Bool

    init(_ request: OpaquePointer, chip: String, offset: Int, value: Bool) {
        self.request = request; self.chip = chip; self.offset = offset; self.value = value
    }

    deinit { edge_gpio_line_release(request) }

    func set(_ value: Bool) throws(GPIOError) {
        guard edge_gpio_line_set(request, value ? 1 : 0) == 0 else {
            throw GPIOError(chip: chip, line: offset, operation: "set \(value ? 1 : 0)", errno: errno)
        }
        self.value = value
    }
}
