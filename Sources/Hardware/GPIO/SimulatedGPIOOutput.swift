#if canImport(Glibc)
import Glibc
#endif

final class SimulatedGPIOOutput: GPIOOutput {
    let chip: SimulatedGPIOChip
    let offset: Int
    let activeLow: Bool
    private(set) var value = false

    init(chip: SimulatedGPIOChip, offset: Int, activeLow: Bool) {
        self.chip = chip; self.offset = offset; self.activeLow = activeLow
    }

    deinit { chip.release(offset) }

    func set(_ value: Bool) throws(GPIOError) {
        self.value = value
        chip.outputChanged(offset, high: value != activeLow)
    }
}
