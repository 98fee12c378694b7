import Foundation
import TestSupport
import Testing

@testable import Spool

@Suite("Spool")
struct SpoolTests {
    /// A segment sealed after the cursor was stored, and wholly delivered, goes at the next sync
    /// though the cursor did not move (it lingered until the next acknowledgement before; the
    /// model test found it).
    @Test func aDeliveredSegmentGoesAtTheNextSyncEvenIfTheCursorDidNotMove() throws {
        let dir = TemporaryDirectory("spool-seal")
        let spool = try Spool(
            directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 3 * 70_000, segmentBytes: 70_000, durability: .never))
        let record = [UInt8](repeating: 1, count: 30_000)
        _ = try spool.append(record, timestamp: 1)
        _ = try spool.append(record, timestamp: 2)
        _ = try spool.readAll()
        try spool.ack(through: 1)
        try spool.sync()
        _ = try spool.append(record, timestamp: 3) // seals the first segment; the cursor stays at 2
        #expect(spool.segments.map(\.baseSeq) == [0, 2])
        try spool.sync()
        #expect(spool.segments.map(\.baseSeq) == [2])
    }

    /// A caller passes the time it read before appending; a flush or sync during the call is
    /// newer. That is no time elapsed: `now - lastSyncAt` wrapped around and synced on every call.
    @Test func aNowOlderThanTheLastSyncIsNoTimeElapsed() throws {
        let dir = TemporaryDirectory("spool-stale-now")
        let spool = try Spool(
            directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 1 << 20, durability: .interval(60_000_000_000)))
        try spool.sync()
        let synced = spool.lastSyncAt
        let flushed = spool.lastFlushAt
        let payload = [UInt8](repeating: 1, count: 20)
        for _ in 0..<10 {
            try payload.withUnsafeBytes { _ = try spool.append($0, timestamp: 1000, now: synced - 1) }
        }
        try spool.ack(through: 3, now: synced - 1)
        try spool.syncIfDue(now: synced - 1)
        #expect(spool.lastSyncAt == synced)
        #expect(spool.lastFlushAt == flushed)
        #expect(spool.durableNextUnacknowledged == 0)
    }

    @Test func appendReadAckReopen() throws {
        let dir = TemporaryDirectory("spool")
        do {
            let spool = try Spool(directory: dir.path)
            #expect(try spool.appendExpected(5) == [0, 1, 2, 3, 4])
            let first = try spool.readAll(max: 3)
            #expect(first.map(\.seq) == [0, 1, 2])
            #expect(first[1] == ReadRecord(seq: 1, timestamp: timestamp(for: 1), payload: payload(for: 1)))
            try spool.ack(through: 1)
            #expect(spool.unacknowledgedCount == 3)
        }
        let reopened = try Spool(directory: dir.path)
        #expect(reopened.drainEvents().isEmpty)
        #expect(reopened.nextSeq == 5)
        // At-least-once: record 2 was read but not acknowledged, so it comes again.
        #expect(try reopened.readAll().map(\.seq) == [2, 3, 4])
    }

    @Test func rewindResendsTheUnacknowledged() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path)
        try spool.appendExpected(4)
        _ = try spool.readAll()
        try spool.ack(through: 0)
        spool.rewind()
        #expect(try spool.readAll().map(\.seq) == [1, 2, 3])
    }

    @Test func readsInterleaveWithAppendsFromTheWriteBuffer() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path, configuration: SpoolConfiguration(durability: .interval(60_000_000_000)))
        for i in 0..<100 {
            try spool.appendExpected(1)
            #expect(try spool.readAll().map(\.seq) == [UInt64(i)])
        }
    }

    @Test func fullSpoolDropsTheOldestSegmentAndCountsIt() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        var events: [SpoolEvent] = []
        spool.onEvent = { events.append($0) }
        try spool.appendExpected(3000) // about 320 KB into 280 KB
        #expect(spool.bytesUsed <= 4 * 70_000)
        #expect(spool.dropped > 0)
        guard case .droppedOldest(let seqs, let unsent, _, _, let reason)? = events.first else { Issue.record("no drop reported"); return }
        #expect(seqs.lowerBound == 0 && seqs.count > 0 && unsent == UInt64(seqs.count) && reason == .capacity)
        let remaining = try spool.readAll()
        #expect(remaining.first?.seq == spool.dropped) // exactly the oldest were dropped
        #expect(UInt64(remaining.count) + spool.dropped == 3000)
        #expect(remaining.map(\.seq) == Array(spool.dropped..<3000))
    }

    /// Records sent by other means (live, in flight) are gone from the disk but not lost: the
    /// caller says how many, and `dropped` counts only the others.
    @Test func droppedCountsOnlyWhatWasNeverSent() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        var events: [SpoolEvent] = []
        spool.onEvent = { events.append($0) }
        spool.sentElsewhere = { seqs in UInt64(seqs.clamped(to: 0..<100).count) } // 0..<100 went out live
        try spool.appendExpected(3000)
        guard case .droppedOldest(let seqs, let unsent, _, _, _)? = events.first else { Issue.record("no drop reported"); return }
        #expect(unsent == UInt64(seqs.count) - 100)
        #expect(UInt64(try spool.readAll().count) + spool.dropped + 100 == 3000)
    }

    /// `interval` with a long period still hands buffered records to the kernel every
    /// `flushInterval`, so a crash of the process alone loses no more than that (README).
    @Test func aLongSyncIntervalStillFlushesToTheKernelEveryFlushInterval() throws {
        let dir = TemporaryDirectory("spool")
        var configuration = SpoolConfiguration(capacityBytes: 4 << 20, durability: .interval(60_000_000_000))
        configuration.flushInterval = 50_000_000
        let spool = try Spool(directory: dir.path, configuration: configuration)
        try spool.sync()
        try spool.appendExpected(10)
        let segment = dir.file(try #require(try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasSuffix(".seg") }))
        let onDisk = { (try? FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int) ?? -1 }
        #expect(onDisk() == 0, "buffered, not yet written")
        let deadline = try #require(spool.nextSyncDeadline)
        #expect(deadline <= Spool.monotonicNow() + 50_000_000, "due within the flush interval, not the sync interval")
        usleep(60_000)
        try spool.syncIfDue()
        #expect(onDisk() > 0, "handed to the kernel")
    }

    @Test func droppingAcknowledgedSegmentsLosesNothing() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        for _ in 0..<30 {
            try spool.appendExpected(100)
            let read = try spool.readAll()
            try spool.ack(through: read.last!.seq)
        }
        #expect(spool.dropped == 0)
        #expect(segmentFiles(dir.path).count <= 2) // delivered segments are deleted
    }

    @Test func statusReportsTheBacklog() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path)
        try spool.appendExpected(10)
        try spool.ack(through: 3)
        let status = try spool.status()
        #expect(status.records == 6)
        #expect(status.nextUnacknowledged == 4)
        #expect(status.oldestTimestamp == timestamp(for: 4))
        #expect(status.newestTimestamp == timestamp(for: 9))
        #expect(try spool.readAll().first?.seq == 4) // status does not move the read position
    }

    @Test func sequenceNumbersContinueAfterEverythingWasDelivered() throws {
        let dir = TemporaryDirectory("spool")
        do {
            let spool = try Spool(directory: dir.path, configuration: smallSegments)
            try spool.appendExpected(1000)
            try spool.ack(through: 999)
        }
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(try spool.append([1], timestamp: 0) == 1000)
    }

    @Test func oneProcessPerSpool() throws {
        let dir = TemporaryDirectory("spool")
        let first = try Spool(directory: dir.path)
        #expect(throws: SpoolError.inUse(path: dir.path + "/cursor")) { try Spool(directory: dir.path) }
        _ = first
    }

    @Test func refusesOversizedRecordsAndTinyCapacities() throws {
        let dir = TemporaryDirectory("spool")
        let spool = try Spool(directory: dir.path)
        #expect(throws: SpoolError.recordTooLarge(70_000)) { try spool.append([UInt8](repeating: 0, count: 70_000), timestamp: 0) }
        #expect(throws: SpoolError.self) {
            try Spool(directory: dir.path + "/x", configuration: SpoolConfiguration(capacityBytes: 100_000, segmentBytes: 70_000))
        }
    }
}
