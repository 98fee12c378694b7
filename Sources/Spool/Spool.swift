import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// A bounded, crash-safe, append-only ring buffer of records on disk, in segment files.
///
/// Appends go to a write buffer and reach the newest segment in whole buffers; fdatasync follows the
/// durability policy. Readers take records from the read position, `ack(through:)` moves the
/// delivery cursor (persisted at the policy's sync points), `rewind()` goes back to the cursor to
/// re-send what was not acknowledged. Opening after a crash scans only the newest segment.
public final class Spool {
    public let directory: String
    public let configuration: SpoolConfiguration
    public var onEvent: ((SpoolEvent) -> Void)?
    /// How many records of a range about to be dropped unacknowledged were sent anyway (in flight,
    /// or published without going through the reader): those are not counted in `dropped`.
    public var sentElsewhere: ((Range<UInt64>) -> UInt64)?

    var segments: [SegmentFile] = []
    var activeFD: FileDescriptor
    var activeFlushedSize: Int
    let writeBuffer: UnsafeMutableRawBufferPointer
    var buffered = 0
    var cursorFile: CursorFile
    var cursorDirty = false
    var dataDirty = false
    var lastSyncAt: Nanoseconds
    var lastFlushAt: Nanoseconds
    /// A write episode that is failing (a full disk): when it began, when a write was last tried,
    /// and how many appends or syncs failed. While it lasts, writes are tried once a second, not on
    /// every append, so a full disk costs no CPU.
    var failing: (since: Nanoseconds, lastTry: Nanoseconds, failures: UInt64, error: SpoolError)?
    /// Whether writes are failing now (reported by `.writeFailed`, ended by `.writingResumed`).
    public var isWriteFailing: Bool { failing != nil }
    /// How often a failing write is tried again.
    public static let writeRetryInterval: Nanoseconds = 1_000_000_000

    public internal(set) var nextSeq: UInt64
    public internal(set) var nextUnacknowledged: UInt64
    public internal(set) var dropped: UInt64
    public internal(set) var discardedBytes = 0
    public internal(set) var corruptRecords: UInt64 = 0
    public internal(set) var newestTimestamp: Int64?
    /// Records with a lower sequence number are durable as the policy defines it (fdatasync'd, or
    /// with `.never`, handed to the kernel).
    public internal(set) var durableSeq: UInt64 = 0
    /// The delivery cursor as last written to disk.
    public internal(set) var durableNextUnacknowledged: UInt64 = 0
    var pendingEvents: [SpoolEvent] = []
    /// The place of the record appended last, for `skip(to:)`.
    public internal(set) var lastAppendedPosition: Position?

    // Reader state (SpoolReader.swift).
    var readSeq: UInt64
    var readPosition: (segmentBase: UInt64, offset: Int)?
    let readBuffer: UnsafeMutableRawBufferPointer
    var readWindow: (segmentBase: UInt64, start: Int, count: Int)?
    var readFD: (segmentBase: UInt64, fd: FileDescriptor)?

    /// Opens or creates the spool in `directory`, recovering from whatever a crash left.
    /// Events found while recovering are delivered on the first `drainEvents` or to `onEvent` later.
    public init(directory: String, configuration: SpoolConfiguration = SpoolConfiguration()) throws(SpoolError) {
        if let problem = configuration.problem { throw problem }
        self.directory = directory
        self.configuration = configuration
        if mkdir(directory, 0o750) != 0 && errno != EEXIST {
            throw .system(operation: "create directory", path: directory, errno: Errno(rawValue: errno))
        }
        cursorFile = try CursorFile(path: directory + "/cursor")
        writeBuffer = .allocate(byteCount: max(configuration.writeBufferBytes, 4096), alignment: 4096)
        readBuffer = .allocate(byteCount: 2 * (Format.recordHeaderSize + Format.maxPayload), alignment: 4096)
        let now = Spool.monotonicNow()
        lastSyncAt = now
        lastFlushAt = now
        // Placeholders until recovery below has found the real values.
        activeFD = FileDescriptor(rawValue: -1)
        activeFlushedSize = 0
        nextSeq = 0
        nextUnacknowledged = 0
        dropped = 0
        readSeq = 0
        do throws(SpoolError) { try recover() } catch {
            cursorFile.close()
            writeBuffer.deallocate()
            readBuffer.deallocate()
            throw error
        }
    }

    deinit {
        try? sync()
        try? activeFD.close()
        if let readFD { try? readFD.fd.close() }
        cursorFile.close()
        writeBuffer.deallocate()
        readBuffer.deallocate()
    }

    public static func monotonicNow() -> Nanoseconds {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func report(_ event: SpoolEvent) {
        if let onEvent { onEvent(event) } else { pendingEvents.append(event) }
    }

    /// Events that happened before `onEvent` was set (recovery at open).
    public func drainEvents() -> [SpoolEvent] {
        defer { pendingEvents.removeAll() }
        return pendingEvents
    }

    // MARK: Appending

    /// Appends one record and returns its sequence number. Does not allocate in steady state.
    /// `now` (monotonic) is for the durability policy; a caller that has read the clock passes it.
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer, timestamp: Int64, now: Nanoseconds = Spool.monotonicNow()) throws(SpoolError)
        -> UInt64
    {
        guard payload.count <= Format.maxPayload else { throw .recordTooLarge(payload.count) }
        let size = Format.recordHeaderSize + payload.count
        if segments.isEmpty { try startSegment(timestamp: timestamp) }
        var active = segments[segments.count - 1]
        let seqDelta = nextSeq - active.baseSeq
        let timestampDelta = timestamp - active.baseTimestamp
        if activeFlushedSize + buffered + size > configuration.segmentBytes || seqDelta > UInt64(UInt32.max)
            || timestampDelta < Int64(Int32.min) || timestampDelta > Int64(Int32.max)
        {
            try startSegment(timestamp: timestamp)
            active = segments[segments.count - 1]
        }
        try makeRoom(for: size)
        if buffered + size > writeBuffer.count { try flush() }
        let before = (position: lastAppendedPosition, timestamp: newestTimestamp)
        lastAppendedPosition = Position(seq: nextSeq, segmentBase: active.baseSeq, offset: activeFlushedSize + buffered)
        Format.encodeRecord(
            seqDelta: UInt32(nextSeq - active.baseSeq),
            timestampDelta: Int32(timestamp - active.baseTimestamp),
            payload: payload, into: writeBuffer.baseAddress! + buffered)
        buffered += size
        dataDirty = true
        let seq = nextSeq
        nextSeq += 1
        newestTimestamp = timestamp
        do { try applyPolicy(now: now) } catch {
            // `.always` acknowledges only what is on the disk: a record the write did not take is
            // taken back, and the caller told. The other policies hold it in memory until a write
            // succeeds (syncIfDue retries and throws meanwhile).
            guard configuration.durability == .always else { return seq }
            if buffered >= size {
                buffered -= size
                nextSeq -= 1
                lastAppendedPosition = before.position
                newestTimestamp = before.timestamp
            }
            throw error
        }
        return seq
    }

    public func append(_ payload: [UInt8], timestamp: Int64) throws(SpoolError) -> UInt64 {
        let result = payload.withUnsafeBytes { raw -> Result<UInt64, SpoolError> in
            do throws(SpoolError) { return .success(try append(raw, timestamp: timestamp)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Bytes in the newest segment, the one appends go to and the one a reopen scans.
    public var newestSegmentBytes: Int { segments.isEmpty ? 0 : activeFlushedSize + buffered }

    /// Total bytes the spool holds, on disk and buffered.
    public var bytesUsed: Int { segments.reduce(0) { $0 + $1.size } + buffered }

    /// Drops the oldest segments until `size` more bytes fit in the capacity.
    private func makeRoom(for size: Int) throws(SpoolError) {
        while bytesUsed + size > configuration.capacityBytes && segments.count > 1 {
            try dropOldestSegment()
        }
    }

    /// Removes the oldest segment; readings in it not yet acknowledged are counted as dropped.
    func dropOldestSegment(reason: SpoolEvent.DropReason = .capacity) throws(SpoolError) {
        let oldest = segments[0]
        let end = segments[1].baseSeq
        let lost = end > nextUnacknowledged ? end - max(nextUnacknowledged, oldest.baseSeq) : 0
        if lost > 0 {
            let seqs = max(nextUnacknowledged, oldest.baseSeq)..<end
            let unsent = lost - min(lost, sentElsewhere?(seqs) ?? 0)
            dropped += unsent
            report(.droppedOldest(seqs: seqs, unsent: unsent, from: oldest.baseTimestamp, to: segments[1].baseTimestamp, reason: reason))
        }
        nextUnacknowledged = max(nextUnacknowledged, end)
        cursorDirty = true
        try removeSegment(at: 0)
        if readSeq < end { readSeq = end; readPosition = nil }
    }

    func removeSegment(at index: Int) throws(SpoolError) {
        let segment = segments.remove(at: index)
        if readFD?.segmentBase == segment.baseSeq { try? readFD?.fd.close(); readFD = nil; readWindow = nil }
        if unlink(segment.path) != 0 && errno != ENOENT {
            throw .system(operation: "remove", path: segment.path, errno: Errno(rawValue: errno))
        }
    }

    /// Seals the newest segment and starts another at `nextSeq`.
    func startSegment(timestamp: Int64) throws(SpoolError) {
        if !segments.isEmpty {
            try flush()
            if configuration.durability != .never { try FileOps.sync(activeFD, path: segments[segments.count - 1].path) }
            try? activeFD.close()
        }
        let name = Format.segmentName(baseSeq: nextSeq)
        let fullPath = path(name)
        do {
            activeFD = try FileDescriptor.open(
                fullPath, .writeOnly, options: [.create, .truncate, .append, .closeOnExec],
                permissions: [.ownerReadWrite, .groupRead])
        } catch { throw .system(operation: "create", path: fullPath, errno: error) }
        segments.append(SegmentFile(baseSeq: nextSeq, baseTimestamp: timestamp, path: fullPath, size: 0))
        activeFlushedSize = 0
        // The header goes out with the first records, in the same write.
        Format.encodeSegmentHeader(
            baseSeq: nextSeq, baseTimestamp: timestamp,
            into: UnsafeMutableRawBufferPointer(rebasing: writeBuffer[0..<Format.segmentHeaderSize]))
        buffered = Format.segmentHeaderSize
        dataDirty = true
        if configuration.durability != .never { try FileOps.syncDirectory(directory) }
    }

    // MARK: Writing out

    /// Hands buffered records to the kernel. On a full disk, drops the oldest segment (counted) and
    /// tries once more; if that does not help, the buffer is kept and `.noSpace` thrown.
    public func flush() throws(SpoolError) {
        guard buffered > 0, !segments.isEmpty else { return }
        let now = Spool.monotonicNow()
        if var episode = failing {
            // Tried less than a second ago: fail at once, without a system call.
            guard now &- episode.lastTry >= Spool.writeRetryInterval else {
                episode.failures += 1
                failing = episode
                throw episode.error
            }
            failing?.lastTry = now
        }
        do { try writeBuffered() } catch {
            if var episode = failing {
                episode.failures += 1
                failing = episode
            } else {
                failing = (now, now, 1, error)
                report(.writeFailed(error))
            }
            throw error
        }
        if let episode = failing {
            failing = nil
            report(.writingResumed(failures: episode.failures, seconds: (now &- episode.since) / 1_000_000_000))
        }
    }

    /// Writes the buffer to the newest segment; on failure the file is left as it was.
    private func writeBuffered() throws(SpoolError) {
        let active = segments[segments.count - 1]
        var written = 0
        var retried = false
        while written < buffered {
            let n = FileFaults.write(activeFD.rawValue, writeBuffer.baseAddress! + written, buffered - written, path: active.path)
            if n > 0 { written += n; continue }
            let error = errno
            if n < 0 && error == EINTR { continue }
            // Cut off whatever part of a record made it out, so the file ends on a record boundary.
            try FileOps.truncate(activeFD, to: activeFlushedSize, path: active.path)
            if (error == ENOSPC || error == EFBIG || error == EDQUOT), !retried, segments.count > 1 {
                retried = true
                try dropOldestSegment(reason: .diskFull)
                written = 0
                continue
            }
            if error == ENOSPC || error == EFBIG || error == EDQUOT { throw .noSpace(path: active.path) }
            throw .system(operation: "write", path: active.path, errno: Errno(rawValue: error))
        }
        activeFlushedSize += buffered
        segments[segments.count - 1].size = activeFlushedSize
        buffered = 0
        lastFlushAt = Spool.monotonicNow()
    }

    /// Makes everything appended and acknowledged so far durable.
    public func sync() throws(SpoolError) {
        try flush()
        if dataDirty && configuration.durability != .never && !segments.isEmpty {
            try FileOps.sync(activeFD, path: segments[segments.count - 1].path)
        }
        dataDirty = false
        if cursorDirty {
            try cursorFile.store(
                .init(nextUnacknowledged: nextUnacknowledged, dropped: dropped),
                sync: configuration.durability != .never)
            cursorDirty = false
            durableNextUnacknowledged = nextUnacknowledged
        }
        // Only behind the cursor on disk may fully delivered segments go: had they gone before it
        // was there, a crash would leave a cursor pointing into a deleted segment. (Also when the
        // cursor did not move: a segment sealed after it was stored is delivered all the same.)
        while segments.count > 1 && segments[1].baseSeq <= durableNextUnacknowledged { try removeSegment(at: 0) }
        lastSyncAt = Spool.monotonicNow()
        durableSeq = nextSeq
    }

    /// For the event loop's timer: syncs (or flushes, with `.never`) when the interval has passed.
    public func syncIfDue(now: Nanoseconds = Spool.monotonicNow()) throws(SpoolError) {
        try applyPolicy(now: now)
    }

    /// When `syncIfDue` next has work, or nil when nothing is waiting.
    public var nextSyncDeadline: Nanoseconds? {
        guard dataDirty || cursorDirty || buffered > 0 else { return nil }
        if let failing { return failing.lastTry &+ Spool.writeRetryInterval }
        switch configuration.durability {
        case .always: return lastSyncAt
        case .interval(let interval):
            // A long interval still hands records to the kernel every `flushInterval`.
            let flushAt = buffered > 0 ? lastFlushAt &+ configuration.flushInterval : Nanoseconds.max
            return min(lastSyncAt &+ interval, flushAt)
        case .never: return lastFlushAt &+ configuration.flushInterval
        }
    }

    func applyPolicy(now: Nanoseconds) throws(SpoolError) {
        // A caller's `now` may be older than a flush or sync this same call made (it read the
        // clock first): that is no time elapsed, not a wrapped-around eternity.
        let sinceSync = now > lastSyncAt ? now - lastSyncAt : 0
        let sinceFlush = now > lastFlushAt ? now - lastFlushAt : 0
        switch configuration.durability {
        case .always:
            try sync()
        case .interval(let interval):
            if sinceSync >= interval {
                try sync()
            } else if buffered > 0 && sinceFlush >= configuration.flushInterval {
                try flush()
            }
        case .never:
            if sinceFlush >= configuration.flushInterval { try sync() }
        }
    }

    // MARK: Acknowledging

    /// Marks every record up to and including `seq` as delivered. The cursor reaches the disk at the
    /// policy's next sync point; segments fully delivered are deleted after that.
    public func ack(through seq: UInt64, now: Nanoseconds = Spool.monotonicNow()) throws(SpoolError) {
        let next = min(seq &+ 1, nextSeq)
        guard next > nextUnacknowledged else { return }
        nextUnacknowledged = next
        if readSeq < next { readSeq = next; readPosition = nil }
        cursorDirty = true
        do { try applyPolicy(now: now) } catch {
            // A failing disk was reported when the episode began; the cursor waits in memory.
            guard failing != nil else { throw error }
        }
    }

    /// Records not yet acknowledged.
    public var unacknowledgedCount: UInt64 { nextSeq - nextUnacknowledged }
}
