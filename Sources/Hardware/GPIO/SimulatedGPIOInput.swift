#if canImport(Glibc)
import Glibc
#endif

final class SimulatedGPIOInput: GPIOInput {
    let chip: SimulatedGPIOChip
    let offset: Int
    let options: GPIOInputOptions
    private let pipe: (read: Int32, write: Int32)?
    private var pending: [GPIOEvent] = []

    init(chip: SimulatedGPIOChip, offset: Int, options: GPIOInputOptions) throws(GPIOError) {
        self.chip = chip; self.offset = offset; self.options = options
        if options.edge != nil {
            var fds: [Int32] = [0, 0]
            guard Glibc.pipe(&fds) == 0 else { throw GPIOError(chip: chip.name, line: offset, operation: "pipe", errno: errno) }
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            pipe = (fds[0], fds[1])
        } else {
            pipe = nil
        }
    }

    deinit {
        if let pipe { close(pipe.read); close(pipe.write) }
        chip.release(offset)
    }

    var eventDescriptor: Int32? { pipe?.read }

    func value() throws(GPIOError) -> Bool { chip.levels[offset] != options.activeLow }

    func levelChanged(to high: Bool, at time: UInt64) {
        guard let pipe, let edge = options.edge else { return }
        let rising = high != options.activeLow
        switch edge {
        case .rising where !rising, .falling where rising: return
        default: break
        }
        pending.append(GPIOEvent(rising: rising, timestamp: time))
        var byte: UInt8 = 1
        _ = write(pipe.write, &byte, 1)
    }

    func readEvents(_ handler: (GPIOEvent) -> Void) throws(GPIOError) {
        guard let pipe else { return }
        var drain = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &drain, { read(pipe.read, $0.baseAddress, $0.count) }) > 0 {}
        let events = pending
        pending.removeAll(keepingCapacity: true)
        for e in events { handler(e) }
    }
}
