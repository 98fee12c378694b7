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
