import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// Reading, scanning and recovery: the parts of the spool that walk records.
extension Spool {
    enum Step {
        case record(seq: UInt64, timestamp: Int64, payload: UnsafeRawBufferPointer, size: Int)
        case corrupt
        case end
    }

    // MARK: Reading

    /// Hands up to `max` records, oldest first, from the read position to `body`, and returns how
    /// many. Corrupt records are skipped and reported (`.skippedCorrupt`); everything around them is
    /// delivered.
    @discardableResult
    public func read(max: Int, _ body: (SpoolRecord) -> Void) throws(SpoolError) -> Int {
        var count = 0
        while count < max && readSeq < nextSeq {
            if readPosition == nil { locate() }
            guard let position = readPosition, let index = segments.firstIndex(where: { $0.baseSeq == position.segmentBase }) else {
                locate()
                if readPosition == nil { break }
                continue
            }
            let segment = segments[index]
            switch try step(segmentIndex: index, offset: position.offset) {
            case .record(let seq, let timestamp, let payload, let size):
                readPosition!.offset += size
                if seq < readSeq { continue } // scanning forward to the read position
                if seq > readSeq { noteSkipped(from: readSeq, to: seq - 1, segment: segment) }
                body(SpoolRecord(seq: seq, timestamp: timestamp, payload: payload))
                readSeq = seq &+ 1
                count += 1
            case .corrupt:
                let limit = index + 1 < segments.count ? segments[index + 1].baseSeq : nextSeq
                if let (offset, seq) = try resync(segmentIndex: index, after: position.offset, minSeq: readSeq, limit: limit) {
                    if seq > readSeq { noteSkipped(from: readSeq, to: seq - 1, segment: segment) }
                    readPosition!.offset = offset
                    readSeq = seq
                } else {
                    if limit > readSeq { noteSkipped(from: readSeq, to: limit - 1, segment: segment) }
                    readSeq = Swift.max(readSeq, limit)
                    readPosition = index + 1 < segments.count ? (segments[index + 1].baseSeq, Format.segmentHeaderSize) : nil
                }
            case .end:
                guard index + 1 < segments.count else { return count } // the newest segment: nothing more yet
                let next = segments[index + 1].baseSeq
                if readSeq < next { // records lost from a sealed segment's end (power cut with durability never)
                    noteSkipped(from: readSeq, to: next - 1, segment: segment)
                    readSeq = next
                }
                readPosition = (next, Format.segmentHeaderSize)
            }
        }
        return count
    }

    /// Hands every record the spool still holds, delivered or not, oldest first, to `body`,
    /// without moving the read position and without reporting damage (the reader does that): for
    /// recovering what other files lost. A damaged record ends the scan of its segment.
    public func scanKept(_ body: (SpoolRecord) -> Void) throws(SpoolError) {
        for index in segments.indices {
            var offset = Format.segmentHeaderSize
            scanning: while true {
                switch try step(segmentIndex: index, offset: offset) {
                case .record(let seq, let timestamp, let payload, let size):
                    body(SpoolRecord(seq: seq, timestamp: timestamp, payload: payload))
                    offset += size
                case .corrupt, .end:
                    break scanning
                }
            }
        }
    }

    private func noteSkipped(from: UInt64, to: UInt64, segment: SegmentFile) {
        guard to >= from else { return }
        corruptRecords &+= to &- from &+ 1
        report(.skippedCorrupt(fromSeq: from, toSeq: to, segment: Format.segmentName(baseSeq: segment.baseSeq)))
    }

    /// Points the read position at the start of the segment holding `readSeq`.
    private func locate() {
        guard let first = segments.first else { readPosition = nil; return }
        if readSeq < first.baseSeq { readSeq = first.baseSeq }
        let index = segments.lastIndex(where: { $0.baseSeq <= readSeq }) ?? 0
        readPosition = (segments[index].baseSeq, Format.segmentHeaderSize)
    }

    // MARK: The read position

    /// Moves the read position back to the first unacknowledged record (after a reconnect).
    public func rewind() {
        if readSeq != nextUnacknowledged { readSeq = nextUnacknowledged; readPosition = nil }
    }

    /// A record's place in the spool, to skip to later without scanning its segment from the start.
    public struct Position: Equatable, Sendable {
        public let seq: UInt64
        let segmentBase: UInt64
        let offset: Int
    }

    /// Where the next appended record goes (or, if the segment is full then, the end of this one,
    /// which a reader passes through to the next).
    public var endPosition: Position? {
        guard let active = segments.last, activeFD.rawValue >= 0 else { return nil }
        return Position(seq: nextSeq, segmentBase: active.baseSeq, offset: activeFlushedSize + buffered)
    }

    /// Moves the read position forward to `seq`, past records delivered another way (the agent
    /// publishes live readings straight after appending them). Never moves backwards. Finding the
    /// record scans its segment from the start, unless it is the end or the record just appended.
    public func skip(to seq: UInt64) {
        if seq >= nextSeq, let end = endPosition { return skip(to: end) }
        if let last = lastAppendedPosition, last.seq == seq { return skip(to: last) }
        let target = min(seq, nextSeq)
        guard target > readSeq else { return }
        readSeq = target
        readPosition = nil
    }

    /// Moves the read position forward to a place noted earlier; as `skip(to: position.seq)` if
    /// its segment has gone since.
    public func skip(to position: Position) {
        guard position.seq <= nextSeq, segments.contains(where: { $0.baseSeq == position.segmentBase }) else {
            if position.seq > readSeq { readSeq = min(position.seq, nextSeq); readPosition = nil }
            return
        }
        guard position.seq > readSeq else { return }
        readSeq = position.seq
        readPosition = (position.segmentBase, position.offset)
    }

    /// The sequence number the next read starts at.
    public var readSequence: UInt64 { readSeq }

    /// Records not yet handed to a reader.
    public var unreadCount: UInt64 { nextSeq - readSeq }
    // MARK: Scanning

    /// Bytes of segment `index` at `offset`, at most `count` (fewer at its end). The newest
    /// segment's unflushed bytes are read from the write buffer.
    func view(segmentIndex index: Int, offset: Int, count: Int) throws(SpoolError) -> UnsafeRawBufferPointer {
        let segment = segments[index]
        let isActive = index == segments.count - 1 && activeFD.rawValue >= 0
        if isActive && offset >= activeFlushedSize {
            let start = offset - activeFlushedSize
            let n = Swift.max(0, Swift.min(count, buffered - start))
            return UnsafeRawBufferPointer(rebasing: writeBuffer[start..<(start + n)])
        }
        let end = isActive ? activeFlushedSize : segment.size
        let want = Swift.max(0, Swift.min(count, end - offset))
        if let w = readWindow, w.segmentBase == segment.baseSeq, offset >= w.start, offset + want <= w.start + w.count {
            return UnsafeRawBufferPointer(rebasing: readBuffer[(offset - w.start)..<(offset - w.start + want)])
        }
        let fd = try readDescriptor(for: segment)
        let length = Swift.min(readBuffer.count, end - offset)
        let n = try FileOps.read(fd, at: offset, into: UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<length]), path: segment.path)
        readWindow = (segment.baseSeq, offset, n)
        return UnsafeRawBufferPointer(rebasing: readBuffer[0..<Swift.min(want, n)])
    }

    private func readDescriptor(for segment: SegmentFile) throws(SpoolError) -> FileDescriptor {
        if let readFD, readFD.segmentBase == segment.baseSeq { return readFD.fd }
        if let readFD { try? readFD.fd.close() }
        readFD = nil
        readWindow = nil
        do {
            let fd = try FileDescriptor.open(segment.path, .readOnly, options: [.closeOnExec])
            readFD = (segment.baseSeq, fd)
            return fd
        } catch { throw .system(operation: "open", path: segment.path, errno: error) }
    }

    func logicalEnd(segmentIndex index: Int) -> Int {
        index == segments.count - 1 && activeFD.rawValue >= 0 ? activeFlushedSize + buffered : segments[index].size
    }

    /// The record at `offset` of segment `index`.
    func step(segmentIndex index: Int, offset: Int) throws(SpoolError) -> Step {
        let end = logicalEnd(segmentIndex: index)
        if offset >= end { return .end }
        let head = try view(segmentIndex: index, offset: offset, count: Format.recordHeaderSize)
        guard head.count == Format.recordHeaderSize else { return .corrupt }
        let length = Int(UInt16(littleEndian: head.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        guard offset + Format.recordHeaderSize + length <= end else { return .corrupt }
        let whole = try view(segmentIndex: index, offset: offset, count: Format.recordHeaderSize + length)
        guard case .valid(let header) = Format.checkRecord(whole) else { return .corrupt }
        let segment = segments[index]
        return .record(
            seq: segment.baseSeq &+ UInt64(header.seqDelta),
            timestamp: segment.baseTimestamp &+ Int64(header.timestampDelta),
            payload: UnsafeRawBufferPointer(rebasing: whole[Format.recordHeaderSize...]),
            size: header.totalSize)
    }

    /// Looks past a corrupt record for the next intact one with `minSeq <= seq < limit`, byte by
    /// byte (a CRC-32 match at a wrong offset is a one-in-four-billion event, and the sequence
    /// bounds make it rarer still). Returns its offset and sequence number.
    func resync(segmentIndex index: Int, after offset: Int, minSeq: UInt64, limit: UInt64) throws(SpoolError) -> (Int, UInt64)? {
        let end = logicalEnd(segmentIndex: index)
        let base = segments[index].baseSeq
        var candidate = offset + 1
        while candidate + Format.recordHeaderSize <= end {
            let head = try view(segmentIndex: index, offset: candidate, count: Format.recordHeaderSize)
            let seqDelta = UInt64(UInt32(littleEndian: head.loadUnaligned(fromByteOffset: 6, as: UInt32.self)))
            let length = Int(UInt16(littleEndian: head.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
            if base + seqDelta >= minSeq && base + seqDelta < limit && candidate + Format.recordHeaderSize + length <= end,
                case .record(let seq, _, _, _) = try step(segmentIndex: index, offset: candidate)
            {
                return (candidate, seq)
            }
            candidate += 1
        }
        return nil
    }

    // MARK: Recovery

    /// Finds the segments, checks the newest one record by record (cutting off a torn tail), and
    /// restores the cursor. Older segments are trusted until read: their records are checked then.
    func recover() throws(SpoolError) {
        let cursor = cursorFile.load()
        let listed = try FileOps.listSegments(directory)
        // Sequence numbers never go back: a segment's name says every number below it was used,
        // even when the file itself is empty (created, then the crash came before its first write).
        let usedBelow = listed.last?.baseSeq ?? 0
        for (position, entry) in listed.enumerated() {
            let fullPath = path(entry.name)
            guard let fd = try? FileDescriptor.open(fullPath, .readOnly, options: [.closeOnExec]) else { continue }
            defer { try? fd.close() }
            let size = try FileOps.fileSize(fd, path: fullPath)
            let header = UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<Format.segmentHeaderSize])
            let n = try FileOps.read(fd, at: 0, into: header, path: fullPath)
            let decoded = n == Format.segmentHeaderSize ? Format.decodeSegmentHeader(UnsafeRawBufferPointer(header)) : nil
            if let decoded, decoded.baseSeq == entry.baseSeq {
                segments.append(SegmentFile(baseSeq: decoded.baseSeq, baseTimestamp: decoded.baseTimestamp, path: fullPath, size: size))
            } else if position == listed.count - 1 && size < Format.segmentHeaderSize {
                unlink(fullPath) // created, then the crash came before its first write completed
                if size > 0 { discardedBytes += size; report(.truncatedTail(bytes: size, segment: entry.name)) }
            } else {
                rename(fullPath, fullPath + ".corrupt")
                report(.quarantinedSegment(segment: entry.name))
            }
        }
        nextSeq = Swift.max(cursor?.nextUnacknowledged ?? 0, usedBelow)
        if let last = segments.indices.last {
            nextSeq = Swift.max(nextSeq, try recoverTail(segmentIndex: last))
            do {
                activeFD = try FileDescriptor.open(segments[last].path, .writeOnly, options: [.append, .closeOnExec])
            } catch { throw .system(operation: "open", path: segments[last].path, errno: error) }
            activeFlushedSize = segments[last].size
        }
        let oldest = segments.first?.baseSeq ?? nextSeq
        if cursor == nil {
            if segments.isEmpty {
                // A new spool: write the cursor now, so that no crash can leave records without one.
                try cursorFile.store(.init(nextUnacknowledged: nextSeq, dropped: 0), sync: configuration.durability != .never)
            } else {
                report(.cursorLost)
                cursorDirty = true // write one at the next sync point
            }
        }
        nextUnacknowledged = Swift.min(Swift.max(cursor?.nextUnacknowledged ?? oldest, oldest), nextSeq)
        dropped = cursor?.dropped ?? 0
        readSeq = nextUnacknowledged
        durableSeq = nextSeq
        durableNextUnacknowledged = nextUnacknowledged
    }

    /// Scans the newest segment; returns the sequence number after its last intact record.
    private func recoverTail(segmentIndex index: Int) throws(SpoolError) -> UInt64 {
        let segment = segments[index]
        var offset = Format.segmentHeaderSize
        var next = segment.baseSeq
        while true {
            switch try step(segmentIndex: index, offset: offset) {
            case .record(let seq, let timestamp, _, let size):
                next = seq + 1
                newestTimestamp = timestamp
                offset += size
            case .end:
                return next
            case .corrupt:
                if let (found, _) = try resync(segmentIndex: index, after: offset, minSeq: next, limit: UInt64.max) {
                    offset = found // bit rot in the middle: keep what follows; the reader reports the gap
                } else {
                    let cut = segment.size - offset
                    let fd: FileDescriptor
                    do { fd = try FileDescriptor.open(segment.path, .writeOnly, options: [.closeOnExec]) } catch {
                        throw .system(operation: "open", path: segment.path, errno: error)
                    }
                    defer { try? fd.close() }
                    try FileOps.truncate(fd, to: offset, path: segment.path)
                    try FileOps.sync(fd, path: segment.path)
                    segments[index].size = offset
                    readWindow = nil
                    discardedBytes += cut
                    report(.truncatedTail(bytes: cut, segment: Format.segmentName(baseSeq: segment.baseSeq)))
                    return next
                }
            }
        }
    }

    // MARK: Status

    public func status() throws(SpoolError) -> SpoolStatus {
        var oldest: Int64?
        let savedSeq = readSeq, savedPosition = readPosition
        let savedCorrupt = corruptRecords, savedEvents = pendingEvents.count
        readSeq = nextUnacknowledged
        readPosition = nil
        let handler = onEvent
        onEvent = nil
        defer {
            readSeq = savedSeq; readPosition = savedPosition; corruptRecords = savedCorrupt
            pendingEvents.removeLast(pendingEvents.count - savedEvents); onEvent = handler
        }
        try read(max: 1) { oldest = $0.timestamp }
        return SpoolStatus(
            records: unacknowledgedCount, bytesOnDisk: bytesUsed, segments: segments.count, nextSeq: nextSeq,
            nextUnacknowledged: nextUnacknowledged, oldestTimestamp: oldest, newestTimestamp: newestTimestamp,
            dropped: dropped, discardedBytes: discardedBytes, corruptRecords: corruptRecords)
    }
}
