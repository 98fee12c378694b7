import CGPIOLines

#if canImport(Glibc)
import Glibc
#endif

final class LinuxGPIOInput: GPIOInput {
    private let request: OpaquePointer
    let chip: String
    let offset: Int
    let eventDescriptor: Int32?
    let debouncedByKernel: Bool
    private var timestamps = [UInt64](repeating: 0, count: 16)
    private var rising = [UInt8](repeating: 0, count: 16)

    init(_ request: OpaquePointer, chip: String, offset: Int, debouncedByKernel: Bool) {
        self.request = request; self.chip = chip; self.offset = offset; self.debouncedByKernel = debouncedByKernel
        let fd = edge_gpio_line_event_fd(request)
        eventDescriptor = fd >= 0 ? fd : nil
    }

    deinit { edge_gpio_line_release(request) }

    func value() throws(GPIOError) -> Bool {
        let v = edge_gpio_line_get(request)
        guard v >= 0 else { throw GPIOError(chip: chip, line: offset, operation: "read", errno: errno) }
        return v == 1
    }

    func readEvents(_ handler: (GPIOEvent) -> Void) throws(GPIOError) {
        guard eventDescriptor != nil else { return }
        while true {
            let count = timestamps.withUnsafeMutableBufferPointer { t in
                rising.withUnsafeMutableBufferPointer { r in
                    edge_gpio_line_read_events(request, t.baseAddress, r.baseAddress, Int32(t.count))
                }
            }
            guard count >= 0 else { throw GPIOError(chip: chip, line: offset, operation: "read events", errno: errno) }
            for i in 0..<Int(count) { handler(GPIOEvent(rising: rising[i] != 0, timestamp: timestamps[i])) }
            if Int(count) < timestamps.count { return }
        }
    }
}
