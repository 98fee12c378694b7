import Spool

#if canImport(Glibc)
import Glibc
#endif

/// The spool's events in words a person can act on: what happened, to how many readings, from
/// when, and what the agent does about it. (The spool reports its own record numbers; those mean
/// nothing to a consumer, who sees each sensor's `seq`.)
enum SpoolWords {
    static func describe(_ event: SpoolEvent, capacity: Int) -> String {
        switch event {
        case .droppedOldest(_, let unsent, let from, let to, let reason):
            let why =
                reason == .capacity
                ? "the spool is full (its capacity is \(bytes(capacity)))"
                : "the disk holding the spool is full"
            if unsent == 0 { return "\(why): its oldest file, whose readings had all been sent, was removed to make room" }
            return
                "\(why): the oldest \(unsent) unsent reading(s), taken \(time(from)) to \(time(to)), were dropped to make room for new ones"
        case .writeFailed(let error):
            return
                "cannot write the spool: \(error). New readings are published from memory while the broker is connected and dropped while it is not; writing is tried again once a second"
        case .writingResumed(let failures, let seconds):
            return "the spool is written again, after \(seconds) s and \(failures) refused write(s)"
        case .truncatedTail(let count, let segment):
            return
                "spool file \(segment) ended in a half-written record (the previous run stopped mid-write); its \(count) byte(s) were cut off"
        case .skippedCorrupt(let from, let to, let segment):
            return
                "\(to - from + 1) record(s) in spool file \(segment) are damaged (failed their checksum) and were skipped; the readings in them are lost"
        case .quarantinedSegment(let segment):
            return
                "spool file \(segment) is unreadable (its header is damaged) and was set aside as \(segment).corrupt; the readings in it are not sent"
        case .cursorLost:
            return
                "the spool's delivery cursor was missing or damaged: every reading still in the spool is sent again (consumers drop repeats by sensor and seq)"
        }
    }

    /// `2026-11-25 10:00:01 UTC` for milliseconds since the Unix epoch.
    static func time(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "\(milliseconds) ms" }
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func bytes(_ n: Int) -> String {
        if n >= 1 << 30 && n % (1 << 30) == 0 { return "\(n >> 30) GiB" }
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        return "\(n) bytes"
    }
}
