import CLinux

#if canImport(Glibc)
import Glibc
#endif

/// Whether the wall clock can be trusted for timestamps. A Raspberry Pi has no real-time clock: it
/// boots with the time it had when it shut down (fake-hwclock) or 1970, and only NTP sets it
/// right. The kernel knows: adjtimex(2) returns TIME_ERROR and sets STA_UNSYNC until a time daemon
/// has disciplined the clock. Readings taken meanwhile are marked `"clock_synced":false`.
final class ClockSync {
    private let probe: () -> Bool
    private var lastCheck: UInt64 = 0
    private(set) var synced: Bool

    /// `probe` answers whether the clock is synchronised now.
    init(probe: @escaping () -> Bool = ClockSync.kernelSaysSynchronised) {
        self.probe = probe
        synced = probe()
        if !synced { Log.warning("the clock is not synchronised (adjtimex): readings are marked \"clock_synced\":false until it is") }
    }

    /// Re-reads the state at most once a second; logs changes.
    func refresh(now: UInt64) {
        guard now &- lastCheck >= 1_000_000_000 else { return }
        lastCheck = now
        let current = probe()
        if current != synced {
            synced = current
            if current {
                Log.notice("the clock is synchronised; readings carry trusted timestamps from now on")
            } else {
                Log.warning("the clock lost synchronisation; readings are marked \"clock_synced\":false")
            }
        }
    }

    static func kernelSaysSynchronised() -> Bool {
        var t = timex()
        return synchronised(state: adjtimex(&t), status: t.status)
    }

    /// adjtimex(2)'s answer read: synchronised unless the call failed (-1), the state is
    /// TIME_ERROR, or STA_UNSYNC is set.
    static func synchronised(state: Int32, status: Int32) -> Bool {
        state >= 0 && state != TIME_ERROR && status & STA_UNSYNC == 0
    }
}
