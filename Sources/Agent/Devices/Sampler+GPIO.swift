import CLinux
import Hardware
import MQTT

/// GPIO: input changes (debounced) published at once as events, pulse counters reported on their
/// interval, outputs driven by commands and set to their safe state on shutdown.
extension Sampler {
    /// The inputs' event descriptors, for the loop to watch.
    var eventDescriptors: [Int32] { devices.inputs.compactMap(\.line.eventDescriptor) }

    /// Reads the events of the input whose descriptor is `fd`; false if none has it.
    func handleGPIOEvents(fd: Int32, now: UInt64) -> Bool {
        guard let input = devices.inputs.first(where: { $0.line.eventDescriptor == fd }) else { return false }
        do {
            try input.line.readEvents { event in edge(input, rising: event.rising, now: now, kernelTime: event.timestamp) }
        } catch { Log.error("\(error)") }
        return true
    }

    private func edge(_ input: InputLine, rising: Bool, now: UInt64, kernelTime: UInt64? = nil) {
        if input.settings.direction == .counter { input.counter.pulse(); return }
        // The kernel's time of the edge where there is one (the same monotonic clock as `now`):
        // a burst's event then carries the time of its first edge, not of the loop turn.
        input.debouncer.edge(at: kernelTime.map { min($0, now) } ?? now)
        // Settled already (no debounce asked for, or the kernel debounced it): published at once,
        // with the level it went to and the kernel's time of the edge, however late the loop saw it.
        if input.settings.debounce.nanoseconds == 0 || input.line.debouncedByKernel,
            let change = input.debouncer.settle(level: rising, now: now)
        {
            publishLineEvent(
                input.target, level: change.level, source: "input",
                at: kernelTime.map { wallClock(ofMonotonic: $0, now: now) })
        }
    }

    /// A kernel event time (CLOCK_MONOTONIC, as libgpiod 2 asks and kernels since 5.7 give v1) as
    /// UTC milliseconds; the time of reading if it is not a plausible recent monotonic time.
    private func wallClock(ofMonotonic time: UInt64, now: UInt64) -> Int64 {
        let wall = wallClockMilliseconds()
        guard time <= now, now - time < 3_600_000_000_000 else { return wall }
        return wall - Int64((now - time) / 1_000_000)
    }

    /// Debounce settling, polling of expander inputs, counter reports, pulse ends.
    func runGPIOTimers(now: UInt64) {
        for input in devices.inputs {
            if input.line.eventDescriptor == nil, now >= input.nextPoll {
                input.nextPoll = now + InputLine.pollInterval
                if let level = try? input.line.value(), level != input.lastPolled {
                    input.lastPolled = level
                    edge(input, rising: level, now: now)
                }
            }
            if let due = input.debouncer.settlesAt, now >= due {
                do {
                    let level = try input.line.value()
                    if let change = input.debouncer.settle(level: level, now: now) {
                        publishLineEvent(
                            input.target, level: change.level, source: "input",
                            at: wallClock(ofMonotonic: change.since, now: now))
                    }
                } catch { Log.error("\(error)") }
            }
            if input.settings.direction == .counter, now >= input.nextCount {
                input.nextCount = nextSlot(after: input.nextCount, interval: input.settings.interval.nanoseconds, now: now)
                let report = input.counter.report(now: now)
                recorder.record(input.target, timestamp: wallClockMilliseconds()) { json in
                    json.key("count"); json.integer(report.total)
                    json.key("frequency_hz"); json.number(report.hertz, decimals: 3)
                }
            }
        }
        for output in devices.outputs {
            if let end = output.pulseEndsAt, now >= end {
                output.pulseEndsAt = nil
                setOutput(output, to: !output.line.value, source: "pulse end")
            }
        }
    }

    var gpioDeadline: UInt64? {
        var deadline: UInt64?
        func consider(_ d: UInt64?) { if let d { deadline = min(deadline ?? d, d) } }
        for input in devices.inputs {
            consider(input.debouncer.settlesAt)
            if input.line.eventDescriptor == nil { consider(input.nextPoll) }
            if input.settings.direction == .counter { consider(input.nextCount) }
        }
        for output in devices.outputs { consider(output.pulseEndsAt) }
        return deadline
    }

    /// `{"seq":..,"ts":..,"state":true,"source":"input"}` on `<prefix>/<device>/events/<line>`,
    /// through the spool like readings, so an event during an outage is not lost.
    private func publishLineEvent(_ target: RecordTarget, level: Bool, source: StaticString, at timestamp: Int64? = nil) {
        recorder.record(target, timestamp: timestamp ?? wallClockMilliseconds()) { json in
            json.key("state"); json.literal(level ? "true" : "false")
            json.key("source"); json.string("\(source)")
        }
    }

    @discardableResult
    func setOutput(_ output: OutputLine, to value: Bool, source: StaticString) -> Bool {
        do {
            try output.line.set(value)
            publishLineEvent(output.target, level: value, source: source)
            return true
        } catch {
            Log.error("\(error)")
            return false
        }
    }

    func commandableOutput(_ name: String) throws(CommandFailure) -> OutputLine {
        guard let output = devices.outputs.first(where: { $0.settings.name == name }), output.settings.commandable else {
            let names = devices.outputs.filter(\.settings.commandable).map(\.settings.name)
            throw CommandFailure(
                "'\(name)' is not an output marked commandable in the configuration; commandable: \(names.isEmpty ? "none" : names.joined(separator: ", "))"
            )
        }
        return output
    }

    /// The `gpio-set` command (and the others that drive a line): sets a commanded output and
    /// writes the line and its new value.
    func drive(_ output: OutputLine, to value: Bool, into result: inout JSONWriter) throws(CommandFailure) {
        guard setOutput(output, to: value, source: "command") else {
            throw CommandFailure("'\(output.settings.name)' could not be set; see the log")
        }
        result.key("line"); result.string(output.settings.name)
        result.key("value"); result.literal(value ? "true" : "false")
    }

    /// The `gpio-pulse` command: the line flips now and back after `ms` (the GPIO timers' job).
    func pulse(_ output: OutputLine, milliseconds ms: Int, into result: inout JSONWriter) throws(CommandFailure) {
        guard output.pulseEndsAt == nil else { throw CommandFailure("'\(output.settings.name)' is already pulsing") }
        output.pulseEndsAt = MonotonicClock.now() + UInt64(ms) * 1_000_000
        do { try drive(output, to: !output.line.value, into: &result) } catch { output.pulseEndsAt = nil; throw error }
    }

    /// Outputs with a `safe_state` go to it on shutdown (a relay opens, a heater turns off).
    func setOutputsToSafeState() {
        for output in devices.outputs {
            guard let safe = output.settings.safeState else { continue }
            do { try output.line.set(safe); Log.notice("GPIO \(output.settings.name): set to its safe state \(safe ? 1 : 0)") } catch {
                Log.error("GPIO \(output.settings.name): safe state not set: \(error)")
            }
        }
    }
}
