import Hardware

final class ExpanderInput: GPIOInput {
    let activeLow: Bool
    let readLevel: () throws(GPIOError) -> Bool
    init(activeLow: Bool, readLevel: @escaping () throws(GPIOError) -> Bool) { self.activeLow = activeLow; self.readLevel = readLevel }
    var eventDescriptor: Int32? { nil }
    func value() throws(GPIOError) -> Bool { try readLevel() != activeLow }
    func readEvents(_ handler: (GPIOEvent) -> Void) throws(GPIOError) {}
}
