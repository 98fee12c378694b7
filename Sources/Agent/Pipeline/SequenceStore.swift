import Spool
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// The per-sensor (and per-line) `seq` of readings, continuing across restarts; a `(name, seq)`
/// pair is never used twice, which is what lets consumers drop repeats by it.
///
/// The file holds, for each name, a bound not yet used, the next multiple of `blockSize`, and is
/// rewritten (new file, fsync, rename) before the counter passes it, together with a second copy
/// (`sequences.backup`). A clean shutdown writes the exact next numbers and a line saying so, so
/// the sequence continues without a gap; after a crash it resumes at the bound (a multiple of 1024),
/// the gap says so, and the missing line tells the next start that the run ended uncleanly.
/// At 1 Hz that is two small writes per sensor every 17 minutes: nothing for an SD card.
///
/// If both copies are lost or damaged on a spool that existed before, each name resumes past the
/// highest number its records in the spool carry and past the wall clock in milliseconds, whichever
/// is higher (see `recover`).
///
/// The files live in the spool directory, whose lock (the spool's) keeps a second agent out.
final class SequenceStore {
    struct Counter {
        var next: UInt64
        var reserved: UInt64
    }

    static let blockSize: UInt64 = 1024
    /// The last line of the file: how the run that wrote it ended. A file without either line
    /// was written by a version before them, and says nothing about how it stopped.
    static let cleanStopLine = "# stopped cleanly"
    static let runningLine = "# running"
    let path: String
    var backupPath: String { path + ".backup" }
    private var names: [String] = []
    private var counters: [Counter] = []
    private var telemetry: [String: Int] = [:]
    private var events: [String: Int] = [:]
    /// The numbers the file held at load, for names not configured now (kept, not forgotten).
    private var others: [(String, UInt64)] = []
    /// Whether the previous run stopped cleanly: nil when there was no previous run to judge.
    private(set) var previousRunStoppedCleanly: Bool?
    /// The files cannot be written now: when to try again, and how often it failed.
    private var failing: (retryAt: UInt64, failures: Int)?

    /// What the store needs from outside to recover lost files.
    struct Recovery {
        /// Whether the spool directory was there before this start (its cursor file existed).
        var spoolExisted = false
        /// The next number past those in the spool's records, per `<kind>/<name>`; called only
        /// when both files are lost.
        var keptInSpool: () -> [String: UInt64] = { [:] }
        /// Milliseconds since the Unix epoch, if the clock can be trusted.
        var wallClock: Int64? = nil
    }

    /// Loads `directory/sequences` (or its backup); recovers, with a warning, when both are gone
    /// or damaged on a spool that existed before; starts every name at 0 on a first start.
    init(
        directory: String, telemetry telemetryNames: [String], events eventNames: [String],
        recovery: Recovery = Recovery(), warning: (String) -> Void
    ) {
        path = directory + "/sequences"
        var stored: [String: UInt64] = [:]
        var defaultStart: UInt64 = 0 // for names the files do not list
        let primary = readFile(path)
        let backup = readFile(path + ".backup")
        let parsed = primary.map(SequenceStore.parse)
        if case .success(let values)? = parsed {
            stored = values
            previousRunStoppedCleanly = SequenceStore.stoppedCleanly(primary!)
        } else {
            if case .failure(let failure)? = parsed {
                warning("\(path): \(failure.message); set aside as \(path).corrupt")
                rename(path, path + ".corrupt")
            }
            if case .success(let values)? = backup.map(SequenceStore.parse) {
                if primary == nil { warning("\(path) is missing; the numbers continue from \(path).backup") }
                stored = values
                previousRunStoppedCleanly = SequenceStore.stoppedCleanly(backup!)
            } else if primary != nil || backup != nil || recovery.spoolExisted {
                (stored, defaultStart) = SequenceStore.recover(
                    recovery,
                    warning: { warning("\(path) and its backup are \(primary == nil && backup == nil ? "missing" : "unreadable"); \($0)") })
            }
        }
        for (kind, list) in [("telemetry/", telemetryNames), ("events/", eventNames)] {
            for name in list {
                let key = kind + name
                let index = counters.count
                names.append(key)
                let start = stored.removeValue(forKey: key) ?? defaultStart
                counters.append(Counter(next: start, reserved: start))
                if kind == "events/" { events[name] = index } else { telemetry[name] = index }
            }
        }
        others = stored.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        // From now on the files say "not stopped cleanly" until `close`.
        if let error = store(exact: false) {
            Log.error("\(error); sequence numbers after a crash may repeat")
        }
    }

    /// Where each name resumes when nothing recorded it: past its highest `seq` in the spool and
    /// past the wall clock in milliseconds. The clock bound holds as long as no name averaged more
    /// than 1,000 readings a second since it started counting (its count can then never pass the
    /// clock). Without a trustworthy clock only the spool is left, and the warning says repeats
    /// are possible.
    /// Returns the start per name found in the spool and the start for every other name.
    static func recover(_ recovery: Recovery, warning: (String) -> Void) -> (values: [String: UInt64], otherwise: UInt64) {
        var values = recovery.keptInSpool()
        guard let clock = recovery.wallClock, clock > 0 else {
            warning(
                "the numbers continue past those in the spool's records; the clock is not set, so names whose readings had all been delivered may repeat numbers"
            )
            return (values, 0)
        }
        let floor = UInt64(clock)
        for (key, value) in values { values[key] = max(value, floor) }
        warning("the numbers continue from \(floor) (the clock in milliseconds) or past the readings in the spool, whichever is higher")
        return (values, floor)
    }

    /// Past the highest `seq` per `<kind>/<name>` among the agent records the spool still holds.
    static func nextNumbers(in spool: Spool) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        do {
            try spool.scanKept { record in
                guard let parsed = AgentRecord(record.payload), let seq = parsed.seq, seq < maxPlausible else { return }
                let key = (parsed.event ? "events/" : "telemetry/") + String(decoding: parsed.name, as: UTF8.self)
                values[key] = max(values[key] ?? 0, seq + 1)
            }
        } catch { Log.error("recovering sequence numbers from the spool: \(error)") }
        return values
    }

    /// The wall clock in milliseconds, unless it is before this code was written (a board without
    /// a real-time clock that has not synced yet starts in 1970 or at a saved time).
    static func plausibleWallClock() -> Int64? {
        let now = wallClockMilliseconds()
        return now >= 1_764_000_000_000 ? now : nil // 2025-11-24
    }

    /// What a file says of the run that wrote it: true (stopped cleanly), false (still running
    /// when it ended: a crash, a kill, a power cut) or nil (a file from before these lines).
    static func stoppedCleanly(_ text: String) -> Bool? {
        if text.contains("\n" + cleanStopLine + "\n") { return true }
        if text.contains("\n" + runningLine + "\n") { return false }
        return nil
    }

    static func parse(_ text: String) -> Result<[String: UInt64], ParseFailure> {
        var values: [String: UInt64] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = UInt64(parts[1]) else {
                return .failure(ParseFailure("line \(number + 1) is not '<kind>/<name> <next>'"))
            }
            // A number no agent reaches (2^62 readings) is damage; taking it would overflow later.
            guard value <= SequenceStore.maxPlausible else {
                return .failure(ParseFailure("line \(number + 1): \(value) is past any real sequence number"))
            }
            values[String(parts[0])] = value
        }
        return .success(values)
    }

    static let maxPlausible: UInt64 = 1 << 62

    struct ParseFailure: Error, Equatable { let message: String; init(_ m: String) { message = m } }

    /// The next number for a name; nil for a name not configured (the caller stamps no seq).
    /// Does not allocate; writes the file once every `blockSize` numbers. When that write fails (a
    /// full or failing disk) the bound on disk stays where it was, and the write is tried again at
    /// most once a second until it succeeds: until then a crash could repeat the numbers handed out
    /// past the stored bound, which the log says once, when it begins, and again when it ends.
    func next(name: String, event: Bool) -> UInt64? {
        guard let index = event ? events[name] : telemetry[name] else { return nil }
        return next(counter: index)
    }

    /// The next number of counter `index` (`counter(name:event:)`): the hot path, no lookup by name.
    func next(counter index: Int) -> UInt64 {
        let value = counters[index].next
        counters[index].next += 1
        if counters[index].next > counters[index].reserved {
            reserve(index)
        }
        return value
    }

    /// The counter of a configured name, for `next(counter:)`.
    func counter(name: String, event: Bool) -> Int? { event ? events[name] : telemetry[name] }

    /// Moves `index`'s bound a block past its next number, if the files take it.
    private func reserve(_ index: Int) {
        let now = SequenceStore.monotonicNow()
        if let episode = failing, now < episode.retryAt { return }
        let stored = counters[index].reserved
        counters[index].reserved = (counters[index].next / SequenceStore.blockSize + 1) * SequenceStore.blockSize
        if let error = store(exact: false) {
            counters[index].reserved = stored
            if failing == nil {
                Log.error("\(error); the numbers go on, but until \(path) can be written a crash may repeat them")
            }
            failing = (retryAt: now + 1_000_000_000, failures: (failing?.failures ?? 0) + 1)
        } else if let episode = failing {
            failing = nil
            Log.notice("\(path) written again, after \(episode.failures) failed attempt(s)")
        }
    }

    static func monotonicNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Writes the exact next numbers (clean shutdown): the sequence continues without a gap.
    func close() {
        if let error = store(exact: true) { Log.error("\(error); the next start will skip ahead to the reserved bounds") }
    }

    /// Writes both copies, the backup second: whichever a crash leaves, its bounds are not below
    /// any number handed out, since numbers past the old bound are handed out only after both.
    /// Returns what failed (the backup's failure is logged here: the primary still holds the bound).
    @discardableResult
    private func store(exact: Bool) -> String? {
        var text = "# edge-agent: the next reading number per sensor and line (see README, Topics and payloads)\n"
        for (i, name) in names.enumerated() {
            text += "\(name) \(exact ? counters[i].next : counters[i].reserved)\n"
        }
        for (name, value) in others { text += "\(name) \(value)\n" }
        text += (exact ? SequenceStore.cleanStopLine : SequenceStore.runningLine) + "\n"
        if let error = SequenceStore.writeAtomically(text, to: path) { return "\(path): \(error)" }
        if let error = SequenceStore.writeAtomically(text, to: backupPath) {
            Log.error("\(backupPath): \(error); \(path) holds the numbers")
        }
        return nil
    }

    /// Writes `text` to a new file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func writeAtomically(_ text: String, to path: String) -> String? {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return "create \(temporary): \(String(cString: strerror(errno)))" }
        var text = text
        // However many writes it takes (a write may take part of the bytes); a failure stops it.
        let written = text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = FileFaults.write(fd, bytes.baseAddress! + done, bytes.count - done, path: temporary)
                if n > 0 {
                    done += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    if n == 0 { errno = EIO }
                    return false
                }
            }
            return true
        }
        let synced = written && FileFaults.sync(fd, path: temporary, full: true) == 0
        let failure = errno
        Glibc.close(fd)
        guard synced else {
            unlink(temporary)
            return "write \(temporary): \(String(cString: strerror(failure)))"
        }
        guard FileFaults.rename(temporary, path) == 0 else {
            let failure = errno
            unlink(temporary)
            return "rename \(temporary): \(String(cString: strerror(failure)))"
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); Glibc.close(dirFD) }
        return nil
    }
}
