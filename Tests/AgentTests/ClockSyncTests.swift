import CLinux
import Glibc
import Testing

@testable import Agent

@Suite("Clock synchronisation")
struct ClockSyncTests {
    @Test func followsTheProbeAtMostOnceASecond() {
        var answers = [false, true, false]
        var calls = 0
        let clock = ClockSync {
            calls += 1; return answers.isEmpty ? false : answers.removeFirst()
        }
        #expect(!clock.synced && calls == 1)
        clock.refresh(now: 10_000_000_000) // monotonic time since boot
        #expect(clock.synced && calls == 2)
        clock.refresh(now: 10_900_000_000) // within a second of the last: not read again
        #expect(clock.synced && calls == 2)
        clock.refresh(now: 11_600_000_000)
        #expect(!clock.synced && calls == 3)
    }

    @Test func theKernelsAnswerIsReadRight() {
        #expect(ClockSync.synchronised(state: TIME_OK, status: 0))
        #expect(!ClockSync.synchronised(state: TIME_ERROR, status: 0))
        #expect(!ClockSync.synchronised(state: TIME_OK, status: STA_UNSYNC))
        #expect(!ClockSync.synchronised(state: -1, status: 0), "the call failed")
        // The real call works without privileges and returns a clock state (TIME_OK...TIME_ERROR).
        var t = timex()
        let state = adjtimex(&t)
        #expect((TIME_OK...TIME_ERROR).contains(state), "adjtimex returned \(state)")
        #expect(ClockSync.kernelSaysSynchronised() == ClockSync.synchronised(state: state, status: t.status))
    }
}
