import Hardware
import MQTT
import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// An input or counter line with its debounce state.
final class InputLine {
    let settings: GPIOSettings
    let line: any GPIOInput
    var debouncer: Debouncer
    var counter: PulseCounter
    /// Lines without an event descriptor (expanders) are polled.
    var nextPoll: UInt64
    var lastPolled: Bool
    var nextCount: UInt64
    /// Where its records go (RecordTarget.swift).
    var target: RecordTarget

    static let pollInterval: UInt64 = 50_000_000

    init(settings: GPIOSettings, line: any GPIOInput, now: UInt64) {
        self.settings = settings
        self.line = line
        target = RecordTarget(name: settings.name, event: settings.direction == .input)
        let level = (try? line.value()) ?? false
        // Where the kernel debounces (libgpiod 2), its events are already settled.
        debouncer = Debouncer(interval: line.debouncedByKernel ? 0 : settings.debounce.nanoseconds, initial: level)
        counter = PulseCounter(now: now)
        lastPolled = level
        nextPoll = now + InputLine.pollInterval
        nextCount = now + settings.interval.nanoseconds
    }
}
