import Foundation
import Syscalls
import TestSupport
import Testing

@testable import Spool

/// The spool's file calls failing in the ways disks fail (`FileFaults`: EIO, short writes, torn
/// writes, failed syncs), each fault confined to the test's own directory.
@Suite("Spool with injected file faults")
struct SpoolFaultTests {
    final class Faulty {
        let directory = TemporaryDirectory("spool-fault")
        var path: String { directory.path + "/spool" }
        func inject(_ fault: FileFaults.Fault, on call: FileFaults.Call, times: Int = 1) {
            FileFaults.inject(fault, on: call, under: directory.path + "/", times: times)
        }
        func clear() { FileFaults.clear(under: directory.path + "/") }
        deinit { clear() }
    }

    static let interval = SpoolConfiguration(capacityBytes: 4 << 20, durability: .interval(1_000_000_000))

    func append(_ spool: Spool, _ count: Int) throws {
        for _ in 0..<count {
            let seq = spool.nextSeq
            _ = try spool.append(payload(for: seq), timestamp: timestamp(for: seq))
        }
    }

    func expectIntact(_ path: String, seqs: Range<UInt64>) throws {
        let spool = try Spool(directory: path, configuration: Self.interval)
        let events = spool.drainEvents()
        #expect(!events.contains { if case .truncatedTail = $0 { true } else { false } }, "\(events)")
        let records = try spool.readAll()
        #expect(records.map(\.seq) == Array(seqs))
        #expect(records.allSatisfy { $0.payload == payload(for: $0.seq) && $0.timestamp == timestamp(for: $0.seq) })
        #expect(spool.corruptRecords == 0)
    }

    /// EIO on a write: reported once as an episode, nothing half-written stays, and once the disk
    /// works again (tried again after a second) every record is written.
    @Test func aFailedWriteIsAnEpisodeAndTheRecordsFollowWhenTheDiskRecovers() throws {
        let disk = Faulty()
        do {
            let spool = try Spool(directory: disk.path, configuration: Self.interval)
            var events: [SpoolEvent] = []
            spool.onEvent = { events.append($0) }
            try append(spool, 10)
            try spool.sync()
            try append(spool, 5)
            disk.inject(.fail(.ioError), on: .write)
            #expect(throws: SpoolError.self) { try spool.sync() }
            #expect(spool.isWriteFailing)
            #expect(events.filter { if case .writeFailed = $0 { true } else { false } }.count == 1)
            disk.clear()
            usleep(1_050_000) // the spool tries again once a second
            try spool.sync()
            #expect(!spool.isWriteFailing)
            #expect(events.contains { if case .writingResumed = $0 { true } else { false } })
        }
        try expectIntact(disk.path, seqs: 0..<15)
    }

    /// A write that takes only part of its bytes is carried on from where it stopped.
    @Test func shortWritesAreCompleted() throws {
        let disk = Faulty()
        do {
            let spool = try Spool(directory: disk.path, configuration: Self.interval)
            try append(spool, 40)
            disk.inject(.short(7), on: .write, times: 5)
            try spool.sync()
        }
        try expectIntact(disk.path, seqs: 0..<40)
    }

    /// Part of a write, then a failure (a torn write): the segment is cut back to the last whole
    /// record, so a reopen finds no torn tail, only the records written before.
    @Test func aTornWriteIsCutBackToARecordBoundary() throws {
        let disk = Faulty()
        do {
            let spool = try Spool(directory: disk.path, configuration: Self.interval)
            try append(spool, 10)
            try spool.sync()
            let size = spool.segments.last!.size
            try append(spool, 5)
            disk.inject(.short(20), on: .write)
            disk.inject(.fail(.ioError), on: .write)
            #expect(throws: SpoolError.self) { try spool.flush() }
            let onDisk = try FileManager.default.attributesOfItem(atPath: spool.segments.last!.path)[.size] as? Int
            #expect(onDisk == size)
            // Closed while failing (a second has not passed: no new try): the five are lost, as
            // `interval` allows for what was not synced.
        }
        disk.clear()
        try expectIntact(disk.path, seqs: 0..<10)
    }

    /// `always` with a failed fdatasync: the append throws, and no sequence number is used twice.
    @Test func alwaysWithAFailedSyncNeverRepeatsANumber() throws {
        let disk = Faulty()
        var configuration = Self.interval
        configuration.durability = .always
        let spool = try Spool(directory: disk.path, configuration: configuration)
        try append(spool, 3)
        disk.inject(.fail(.ioError), on: .sync)
        #expect(throws: SpoolError.self) { try append(spool, 1) }
        disk.clear()
        let next = try spool.append(payload(for: spool.nextSeq), timestamp: timestamp(for: spool.nextSeq))
        #expect(next >= 3)
        let records = try spool.readAll().map(\.seq)
        #expect(Array(records.prefix(3)) == [0, 1, 2] && Set(records).count == records.count && records.last == next)
    }

    /// The cursor's write fails, or is torn (part of the slot written, then a failure), and keeps
    /// failing until the spool is closed, as on a dying card: the cursor on disk stays where it
    /// durably was (a torn slot is refused by its CRC, the other slot is used), nothing is lost, and
    /// nothing acknowledged only in memory counts as delivered.
    @Test(arguments: [false, true])
    func aFailedOrTornCursorWriteKeepsTheDurableCursor(torn: Bool) throws {
        let disk = Faulty()
        let cursor = disk.path + "/cursor"
        do {
            let spool = try Spool(directory: disk.path, configuration: Self.interval)
            try append(spool, 10)
            _ = try spool.readAll()
            try spool.ack(through: 4)
            try spool.sync()
            try spool.ack(through: 8)
            if torn { FileFaults.inject(.short(10), on: .write, under: cursor) }
            FileFaults.inject(.fail(.ioError), on: .write, under: cursor, times: .max)
            #expect(throws: SpoolError.self) { try spool.sync() }
            #expect(spool.durableNextUnacknowledged == 5)
        }
        disk.clear()
        let reopened = try Spool(directory: disk.path, configuration: Self.interval)
        #expect(!reopened.drainEvents().contains(.cursorLost))
        #expect(reopened.nextUnacknowledged == 5)
        #expect(try reopened.readAll().map(\.seq) == Array(5..<10))
    }
}
