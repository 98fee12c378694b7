#if canImport(Glibc)
import Glibc
#endif
import CGPIOD

/// A GPIO chip through libgpiod 1.6 (the kernel's GPIO character device, uAPI v1).
///
/// The v1 interface has no debounce setting; `Debouncer` does it in software on the event
/// timestamps, which is what the agent uses for every chip alike.
public final class LinuxGPIOChip: GPIOChip {
    private let chip: OpaquePointer
    public let name: String
    public let label: String
    public let lineCount: Int

    /// Opens a chip by name (`gpiochip0`), path, number or label (`pinctrl-rp1`).
    public init(lookup description: String) throws(GPIOError) {
        guard let chip = gpiod_chip_open_lookup(description) else {
            throw GPIOError(chip: description, line: nil, operation: "open (by name, path, number or label)", errno: errno)
        }
        self.chip = chip
        name = String(cString: gpiod_chip_name(chip))
        label = String(cString: gpiod_chip_label(chip))
        lineCount = Int(gpiod_chip_num_lines(chip))
    }

    deinit { gpiod_chip_close(chip) }

    /// Every chip in /dev: (name, label, lines), for diagnostics.
    public static func all() -> [(name: String, label: String, lines: Int)] {
        guard let iterator = gpiod_chip_iter_new() else { return [] }
        defer { gpiod_chip_iter_free(iterator) }
        var result: [(String, String, Int)] = []
        while let chip = gpiod_chip_iter_next(iterator) {
            result.append((String(cString: gpiod_chip_name(chip)), String(cString: gpiod_chip_label(chip)), Int(gpiod_chip_num_lines(chip))))
        }
        return result
    }

    private func line(_ offset: Int) throws(GPIOError) -> OpaquePointer {
        guard offset >= 0, offset < lineCount, let line = gpiod_chip_get_line(chip, UInt32(offset)) else {
            throw GPIOError(chip: name, line: offset, operation: "no such line (the chip has \(lineCount))", errno: 0)
        }
        return line
    }

    public func requestInput(offset: Int, _ options: GPIOInputOptions) throws(GPIOError) -> any GPIOInput {
        let line = try line(offset)
        var flags: Int32 = options.activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        switch options.bias {
        case .asIs: break
        case .disabled: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        let result: Int32
        switch options.edge {
        case nil: result = gpiod_line_request_input_flags(line, options.consumer, flags)
        case .rising?: result = gpiod_line_request_rising_edge_events_flags(line, options.consumer, flags)
        case .falling?: result = gpiod_line_request_falling_edge_events_flags(line, options.consumer, flags)
        case .both?: result = gpiod_line_request_both_edges_events_flags(line, options.consumer, flags)
        }
        guard result == 0 else { throw GPIOError(chip: name, line: offset, operation: "request as input", errno: errno) }
        return LinuxGPIOInput(line: line, chip: name, offset: offset, events: options.edge != nil)
    }

    public func requestOutput(offset: Int, _ options: GPIOOutputOptions) throws(GPIOError) -> any GPIOOutput {
        let line = try line(offset)
        let flags: Int32 = options.activeLow ? Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) : 0
        guard gpiod_line_request_output_flags(line, options.consumer, flags, options.initial ? 1 : 0) == 0 else {
            throw GPIOError(chip: name, line: offset, operation: "request as output", errno: errno)
        }
        return LinuxGPIOOutput(line: line, chip: name, offset: offset, value: options.initial)
    }
}

final class LinuxGPIOInput: GPIOInput {
    let line: OpaquePointer
    let chip: String
    let offset: Int
    let eventDescriptor: Int32?
    private var buffer = [gpiod_line_event](repeating: gpiod_line_event(), count: 16)

    init(line: OpaquePointer, chip: String, offset: Int, events: Bool) {
        self.line = line; self.chip = chip; self.offset = offset
        if events {
            let fd = gpiod_line_event_get_fd(line)
            // Non-blocking, so reading an empty queue returns EAGAIN instead of stalling the loop.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            eventDescriptor = fd
        } else {
            eventDescriptor = nil
        }
    }

    deinit { gpiod_line_release(line) }

    func value() throws(GPIOError) -> Bool {
        let v = gpiod_line_get_value(line)
        guard v >= 0 else { throw GPIOError(chip: chip, line: offset, operation: "read", errno: errno) }
        return v == 1
    }

    func readEvents(_ handler: (GPIOEvent) -> Void) throws(GPIOError) {
        guard eventDescriptor != nil else { return }
        while true {
            let count = buffer.withUnsafeMutableBufferPointer { gpiod_line_event_read_multiple(line, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                throw GPIOError(chip: chip, line: offset, operation: "read events", errno: errno)
            }
            for i in 0..<Int(count) {
                let e = buffer[i]
                handler(GPIOEvent(rising: e.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE),
                                  timestamp: UInt64(e.ts.tv_sec) * 1_000_000_000 + UInt64(e.ts.tv_nsec)))
            }
            if Int(count) < buffer.count { return }
        }
    }
}

final class LinuxGPIOOutput: GPIOOutput {
    let line: OpaquePointer
    let chip: String
    let offset: Int
    private(set) var value: Bool

    init(line: OpaquePointer, chip: String, offset: Int, value: Bool) {
        self.line = line; self.chip = chip; self.offset = offset; self.value = value
    }

    deinit { gpiod_line_release(line) }

    func set(_ value: Bool) throws(GPIOError) {
        guard gpiod_line_set_value(line, value ? 1 : 0) == 0 else {
            throw GPIOError(chip: chip, line: offset, operation: "set \(value ? 1 : 0)", errno: errno)
        }
        self.value = value
    }
}
