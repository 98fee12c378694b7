import Hardware

final class ExpanderOutput: GPIOOutput {
    let activeLow: Bool
    let writeLevel: (Bool) throws(GPIOError) -> Void
    private(set) var value: Bool
    init(activeLow: Bool, value: Bool = false, writeLevel: @escaping (Bool) throws(GPIOError) -> Void) {
        self.activeLow = activeLow; self.value = value; self.writeLevel = writeLevel
    }
    func set(_ value: Bool) throws(GPIOError) {
        try writeLevel(value != activeLow)
        self.value = value
    }
}
