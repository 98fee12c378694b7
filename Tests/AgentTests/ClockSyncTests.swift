import Testing
@testable import Agent

@Suite("Clock synchronisation")
struct ClockSyncTests {
    @Test func followsTheProbeAtMostOnceASecond() {
        var answers = [false, true, false]
        var calls = 0
        let clock = ClockSync { calls += 1; return answers.isEmpty ? false : answers.removeFirst() }
        #expect(!clock.synced && calls == 1)
        clock.refresh(now: 10_000_000_000)        // monotonic time since boot
        #expect(clock.synced && calls == 2)
        clock.refresh(now: 10_900_000_000)        // within a second of the last: not read again
        #expect(clock.synced && calls == 2)
        clock.refresh(now: 11_600_000_000)
        #expect(!clock.synced && calls == 3)
    }

    @Test func kernelProbeAnswers() {
        // Whatever this machine's state is, asking must work and not need privileges.
        _ = ClockSync.kernelSaysSynchronised()
    }
}
