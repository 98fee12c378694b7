#if canImport(Glibc)
import Glibc
#endif
import Syscalls

public typealias Nanoseconds = UInt64

public struct SpoolConfiguration: Sendable, Equatable {
    /// When appended records are made durable (fdatasync). Whatever the policy, records reach the
    /// kernel (write(2)) at least every `flushInterval`, so a crash of the process alone loses at most
    /// that much; a power cut loses what the policy says.
    public enum Durability: Sendable, Equatable {
        /// fdatasync after every append: nothing acknowledged by `append` is lost. Slowest, most writes.
        case always
        /// fdatasync every interval: a power cut loses at most the last interval.
        case interval(Nanoseconds)
        /// Never fdatasync; the kernel writes back when it likes (about 30 s on Linux by default).
        case never
    }

    public var capacityBytes: Int = 64 * 1024 * 1024
    /// Size of each segment file; the oldest whole segment is dropped when the spool is full.
    public var segmentBytes: Int = 4 * 1024 * 1024
    public var durability: Durability = .interval(1_000_000_000)
    public var flushInterval: Nanoseconds = 1_000_000_000
    /// Records are batched here and written in whole buffers (of whole pages where possible).
    public var writeBufferBytes: Int = 64 * 1024

    public init(capacityBytes: Int = 64 * 1024 * 1024, segmentBytes: Int? = nil, durability: Durability = .interval(1_000_000_000)) {
        self.capacityBytes = capacityBytes
        self.segmentBytes = segmentBytes ?? max(SpoolConfiguration.minimumSegmentBytes, min(capacityBytes / 16, 4 * 1024 * 1024))
        self.durability = durability
    }

    /// A segment holds at least one record of the largest size.
    public static let minimumSegmentBytes = Format.segmentHeaderSize + Format.recordHeaderSize + Format.maxPayload
    /// The smallest capacity with default segments: two of the smallest.
    public static let minimumCapacityBytes = 2 * minimumSegmentBytes

    /// Why the spool would refuse this configuration, or nil. The one rule, shared by `Spool.init`
    /// and the configuration check.
    public var problem: SpoolError? {
        guard segmentBytes >= SpoolConfiguration.minimumSegmentBytes, capacityBytes >= 2 * segmentBytes else {
            return .capacityTooSmall(capacity: capacityBytes, segmentBytes: segmentBytes)
        }
        return nil
    }
}

/// Things the spool reports as they happen; none of them stops it.
public enum SpoolEvent: Equatable, Sendable {
    /// The spool was full and the oldest segment went; `records` unacknowledged readings were lost.
    case droppedOldest(records: UInt64, segment: String)
    /// A torn record at the end of the newest segment (a crash mid-write) was cut off at open.
    case truncatedTail(bytes: Int, segment: String)
    /// Records that failed their checksum were skipped; `fromSeq...toSeq` are missing.
    case skippedCorrupt(fromSeq: UInt64, toSeq: UInt64, segment: String)
    /// A segment whose header is unreadable was set aside (renamed to .corrupt).
    case quarantinedSegment(segment: String)
    /// No intact cursor was found; delivery restarts at the oldest record kept (at-least-once).
    case cursorLost
}

/// A record handed to a reader. The payload is valid only during the callback.
public struct SpoolRecord {
    public let seq: UInt64
    /// Milliseconds since the Unix epoch, as given to `append`.
    public let timestamp: Int64
    public let payload: UnsafeRawBufferPointer
}

public struct SpoolStatus: Sendable, Equatable {
    /// Records appended and not yet acknowledged (upper bound: corrupt records count until skipped).
    public var records: UInt64
    public var bytesOnDisk: Int
    public var segments: Int
    public var nextSeq: UInt64
    public var nextUnacknowledged: UInt64
    public var oldestTimestamp: Int64?
    public var newestTimestamp: Int64?
    public var dropped: UInt64
    public var discardedBytes: Int
    public var corruptRecords: UInt64
}

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
        do throws(SpoolError) { try recover() }
        catch {
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
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer, timestamp: Int64) throws(SpoolError) -> UInt64 {
        guard payload.count <= Format.maxPayload else { throw .recordTooLarge(payload.count) }
        let size = Format.recordHeaderSize + payload.count
        if segments.isEmpty { try startSegment(timestamp: timestamp) }
        var active = segments[segments.count - 1]
        let seqDelta = nextSeq - active.baseSeq
        let timestampDelta = timestamp - active.baseTimestamp
        if activeFlushedSize + buffered + size > configuration.segmentBytes || seqDelta > UInt64(UInt32.max)
            || timestampDelta < Int64(Int32.min) || timestampDelta > Int64(Int32.max) {
            try startSegment(timestamp: timestamp)
            active = segments[segments.count - 1]
        }
        try makeRoom(for: size)
        if buffered + size > writeBuffer.count { try flush() }
        lastAppendedPosition = Position(seq: nextSeq, segmentBase: active.baseSeq, offset: activeFlushedSize + buffered)
        Format.encodeRecord(seqDelta: UInt32(nextSeq - active.baseSeq),
                            timestampDelta: Int32(timestamp - active.baseTimestamp),
                            payload: payload, into: writeBuffer.baseAddress! + buffered)
        buffered += size
        dataDirty = true
        let seq = nextSeq
        nextSeq += 1
        newestTimestamp = timestamp
        try applyPolicy(now: Spool.monotonicNow())
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
    func dropOldestSegment() throws(SpoolError) {
        let oldest = segments[0]
        let end = segments[1].baseSeq
        let lost = end > nextUnacknowledged ? end - max(nextUnacknowledged, oldest.baseSeq) : 0
        if lost > 0 {
            dropped += lost
            report(.droppedOldest(records: lost, segment: Format.segmentName(baseSeq: oldest.baseSeq)))
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
            activeFD = try FileDescriptor.open(fullPath, .writeOnly, options: [.create, .truncate, .append, .closeOnExec],
                                               permissions: [.ownerReadWrite, .groupRead])
        } catch { throw .system(operation: "create", path: fullPath, errno: error) }
        segments.append(SegmentFile(baseSeq: nextSeq, baseTimestamp: timestamp, path: fullPath, size: 0))
        activeFlushedSize = 0
        // The header goes out with the first records, in the same write.
        Format.encodeSegmentHeader(baseSeq: nextSeq, baseTimestamp: timestamp,
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
        let active = segments[segments.count - 1]
        var written = 0
        var retried = false
        while written < buffered {
            let n = write(activeFD.rawValue, writeBuffer.baseAddress! + written, buffered - written)
            if n > 0 { written += n; continue }
            let error = errno
            if n < 0 && error == EINTR { continue }
            // Cut off whatever part of a record made it out, so the file ends on a record boundary.
            try FileOps.truncate(activeFD, to: activeFlushedSize, path: active.path)
            if (error == ENOSPC || error == EFBIG || error == EDQUOT), !retried, segments.count > 1 {
                retried = true
                try dropOldestSegment()
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
        if dataDirty && configuration.durability != .never && !segments.isEmpty { try FileOps.sync(activeFD, path: segments[segments.count - 1].path) }
        dataDirty = false
        if cursorDirty {
            try cursorFile.store(.init(nextUnacknowledged: nextUnacknowledged, dropped: dropped),
                                 sync: configuration.durability != .never)
            cursorDirty = false
            durableNextUnacknowledged = nextUnacknowledged
            // Only now may fully delivered segments go: had they gone before the cursor was on disk,
            // a crash would leave a cursor pointing into a deleted segment.
            while segments.count > 1 && segments[1].baseSeq <= durableNextUnacknowledged { try removeSegment(at: 0) }
        }
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
        switch configuration.durability {
        case .always: return lastSyncAt
        case .interval(let interval): return lastSyncAt &+ interval
        case .never: return lastFlushAt &+ configuration.flushInterval
        }
    }

    func applyPolicy(now: Nanoseconds) throws(SpoolError) {
        switch configuration.durability {
        case .always:
            try sync()
        case .interval(let interval):
            if now &- lastSyncAt >= interval { try sync() }
        case .never:
            if now &- lastFlushAt >= configuration.flushInterval { try sync() }
        }
    }

    // MARK: Acknowledging

    /// Marks every record up to and including `seq` as delivered. The cursor reaches the disk at the
    /// policy's next sync point; segments fully delivered are deleted after that.
    public func ack(through seq: UInt64) throws(SpoolError) {
        let next = min(seq &+ 1, nextSeq)
        guard next > nextUnacknowledged else { return }
        nextUnacknowledged = next
        if readSeq < next { readSeq = next; readPosition = nil }
        cursorDirty = true
        try applyPolicy(now: Spool.monotonicNow())
    }

    /// Records not yet acknowledged.
    public var unacknowledgedCount: UInt64 { nextSeq - nextUnacknowledged }
}
