import Hardware
import MQTT
import Sensors

#if canImport(Glibc)
import Glibc
#endif

/// One sensor's schedule and health. A reading is two steps (start, then collect after the
/// chip's conversion time), so the loop keeps two deadlines per sensor: the next slot on its
/// fixed grid, and the pending collect. A failure marks the chip for reconfiguration and backs
/// off (1 s, 2 s, 4 s ... 5 min, always on the grid) while other sensors keep their schedule.
final class SensorRunner {
    var settings: SensorSettings
    let driver: Result<any SensorDriver, any Error>
    /// The driver, out of its Result once: unwrapping the Result on each step copied it, with a
    /// retain and a release of the driver every time.
    private let instance: (any SensorDriver)?
    var nextDue: UInt64
    /// Set while a conversion runs: when to collect.
    var collectAt: UInt64?
    /// Wall-clock time of the reading under way (its start).
    var takenAt: Int64 = 0
    var configured = false
    var consecutiveFailures = 0
    var readings: UInt64 = 0
    var errors: UInt64 = 0
    var lastError: String?
    var measurement = Measurement()
    /// Where its records go (RecordTarget.swift).
    var target: RecordTarget

    static let maximumBackoff: UInt64 = 300_000_000_000

    init(settings: SensorSettings, driver: Result<any SensorDriver, any Error>, now: UInt64) {
        self.settings = settings
        self.driver = driver
        if case .success(let made) = driver { instance = made } else { instance = nil }
        target = RecordTarget(name: settings.name, event: false)
        nextDue = now
    }

    var deadline: UInt64 { collectAt ?? nextDue }

    /// Advances the schedule to the next slot on the grid start + k x interval.
    func scheduleNext(now: UInt64) {
        nextDue = nextSlot(after: nextDue, interval: settings.interval.nanoseconds, now: now)
    }

    /// Starts a reading. Returns true if the result can be collected now.
    func begin(now: UInt64, wallClock: Int64) throws -> Bool {
        scheduleNext(now: now)
        guard let driver = instance else { _ = try driver.get(); return false } // throws the reason it was not made
        takenAt = wallClock
        if !configured { try driver.configure(); configured = true }
        measurement.reset()
        let wait = try driver.start()
        collectAt = now + wait
        return wait == 0
    }

    /// Collects; true when the measurement is complete. Multi-step drivers (an ADC converting
    /// one channel at a time) add their fields over several calls.
    func collect(now: UInt64) throws -> Bool {
        guard let driver = instance else { _ = try driver.get(); return false }
        if let more = try driver.collect(into: &measurement) {
            collectAt = now + more
            return false
        }
        collectAt = nil
        return true
    }

    /// A whole reading now, sleeping through the conversion: for on-demand reads (the `read`
    /// command, `edge-agent read`), never for the loop's schedule.
    func readBlocking() throws {
        collectAt = nil
        _ = try begin(now: MonotonicClock.now(), wallClock: wallClockMilliseconds())
        repeat {
            let now = MonotonicClock.now()
            if let at = collectAt, at > now { usleep(UInt32(min((at - now) / 1000, 1_000_000))) }
        } while try !collect(now: MonotonicClock.now())
    }

    /// Records a failure and pushes the next attempt out by the backoff. Returns the message to
    /// log, or nil when it repeats the last one (a dead sensor does not flood the journal).
    func failed(_ error: any Error, now: UInt64) -> String? {
        collectAt = nil
        configured = false
        errors += 1
        consecutiveFailures += 1
        let backoff = min(1_000_000_000 << UInt64(min(consecutiveFailures - 1, 20)), SensorRunner.maximumBackoff)
        let interval = settings.interval.nanoseconds
        if nextDue < now + backoff { nextDue += ((now + backoff - nextDue) + interval - 1) / interval * interval }
        let message = "\(error)"
        defer { lastError = message }
        return message == lastError ? nil : "sensor \(settings.name): \(message); retrying in \(max(backoff, interval) / 1_000_000_000) s"
    }

    /// A success; returns a message if it ends a run of failures.
    func succeeded() -> String? {
        readings += 1
        defer {
            consecutiveFailures = 0
            if lastError != nil { lastError = nil }
        }
        return consecutiveFailures > 0 ? "sensor \(settings.name): recovered after \(consecutiveFailures) failed attempt(s)" : nil
    }
}
