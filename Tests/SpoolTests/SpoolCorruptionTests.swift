import Foundation
import TestSupport
import Testing

@testable import Spool

/// Files damaged the ways SD cards and power cuts damage them.
@Suite("Spool corruption")
struct SpoolCorruptionTests {
    /// Writes `count` records with small segments, closes, returns the directory.
    func makeSpool(_ count: Int, config: SpoolConfiguration = smallSegments) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory("spool-corrupt")
        let spool = try Spool(directory: dir.path, configuration: config)
        try spool.appendExpected(count)
        try spool.sync()
        return dir
    }

    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path)!) }
    func write(_ bytes: [UInt8], _ path: String) { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }

    @Test func truncationAtEveryOffsetOfTheLastRecords() throws {
        let dir = try makeSpool(20)
        let segment = dir.file(segmentFiles(dir.path).last!)
        let original = bytes(segment)
        // The last three records take the last ~400 bytes; cut at every byte of them.
        let records = (17..<20).map { 14 + payload(for: UInt64($0)).count }.reduce(0, +)
        for cut in (original.count - records)..<original.count {
            write(Array(original[..<cut]), segment)
            let spool = try Spool(directory: dir.path, configuration: smallSegments)
            let read = try spool.readAll()
            #expect(read.map(\.seq) == Array(0..<UInt64(read.count))) // a prefix, in order
            #expect(read.count >= 17) // nothing before the cut lost
            for r in read { #expect(r.payload == payload(for: r.seq)) }
            #expect(spool.nextSeq == UInt64(read.count)) // the torn record is gone
            let discarded = spool.drainEvents().compactMap { if case .truncatedTail(let n, _) = $0 { n } else { nil } }
            #expect(discarded.reduce(0, +) == spool.discardedBytes)
            // Appending after recovery continues cleanly.
            try spool.appendExpected(1)
            spool.rewind()
            #expect(try spool.readAll().last?.seq == UInt64(read.count))
        }
    }

    @Test func flippedBytesInTheMiddleAreSkippedAndCounted() throws {
        for trial in 0..<20 {
            let dir = try makeSpool(1500) // several segments
            let files = segmentFiles(dir.path)
            let victim = dir.file(files[trial % (files.count - 1)]) // a sealed segment
            var content = bytes(victim)
            let position = Int.random(in: 40..<(content.count - 20))
            content[position] ^= UInt8.random(in: 1...255)
            write(content, victim)
            let spool = try Spool(directory: dir.path, configuration: smallSegments)
            var skipped: [(UInt64, UInt64)] = []
            spool.onEvent = { if case .skippedCorrupt(let from, let to, _) = $0 { skipped.append((from, to)) } }
            let read = try spool.readAll()
            #expect(skipped.count == 1, "trial \(trial)")
            #expect(spool.corruptRecords >= 1)
            for r in read { #expect(r.payload == payload(for: r.seq)) } // nothing corrupt returned
            let missing = Set(0..<UInt64(1500)).subtracting(read.map(\.seq))
            #expect(UInt64(missing.count) == spool.corruptRecords) // every loss counted
            #expect(missing.count <= 2, "one flipped byte costs at most the record or two it touches")
            #expect(read.map(\.seq) == read.map(\.seq).sorted())
        }
    }

    @Test func corruptTailRecordInTheMiddleOfTheNewestSegment() throws {
        let dir = try makeSpool(50)
        let segment = dir.file(segmentFiles(dir.path).last!)
        var content = bytes(segment)
        content[32 + 20] ^= 0xFF // inside the first record of the segment
        write(content, segment)
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(spool.discardedBytes == 0) // bit rot, not a torn tail: the records after it stay
        let read = try spool.readAll()
        #expect(read.count == 49)
        #expect(spool.nextSeq == 50)
    }

    @Test func deletedCursorFileResendsEverythingKept() throws {
        let dir = TemporaryDirectory("spool-corrupt")
        do {
            let spool = try Spool(directory: dir.path)
            try spool.appendExpected(10)
            try spool.ack(through: 4)
        }
        try FileManager.default.removeItem(atPath: dir.file("cursor"))
        let spool = try Spool(directory: dir.path)
        #expect(spool.drainEvents() == [.cursorLost])
        #expect(try spool.readAll().map(\.seq) == Array(0..<10)) // at-least-once: nothing skipped
    }

    @Test func garbledCursorFileFallsBackToTheOtherSlot() throws {
        let dir = TemporaryDirectory("spool-corrupt")
        do {
            let spool = try Spool(directory: dir.path)
            try spool.appendExpected(10)
            try spool.ack(through: 4)
            try spool.ack(through: 6)
        }
        var cursor = bytes(dir.file("cursor"))
        // Tear whichever slot is newer; the older one must be used.
        let newer = cursor[0] > cursor[32] ? 0 : 32
        cursor[newer + 9] ^= 0x55
        write(cursor, dir.file("cursor"))
        let spool = try Spool(directory: dir.path)
        #expect(spool.nextUnacknowledged <= 7)
        #expect(try spool.readAll().first?.seq == spool.nextUnacknowledged)
    }

    @Test func unreadableSegmentHeaderIsQuarantined() throws {
        let dir = try makeSpool(1500)
        let files = segmentFiles(dir.path)
        var content = bytes(dir.file(files[1]))
        content[3] ^= 0xFF
        write(content, dir.file(files[1]))
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(spool.drainEvents().contains(.quarantinedSegment(segment: files[1])))
        let read = try spool.readAll()
        #expect(read.first?.seq == 0)
        #expect(read.count < 1500)
        #expect(FileManager.default.fileExists(atPath: dir.file(files[1] + ".corrupt")))
    }

    @Test func fullDiskIsAClearErrorAndTheSpoolRecovers() throws {
        // A 256 KiB tmpfs: the spool's capacity is larger than the disk.
        let mount = TemporaryDirectory("spool-tmpfs")
        guard (try? run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.path])) != nil else {
            Issue.record("cannot mount a tmpfs here (the suite runs as root in CI)"); return
        }
        defer { _ = try? run("umount", [mount.path]) }
        let config = SpoolConfiguration(capacityBytes: 8 * 70_000, segmentBytes: 70_000, durability: .always)
        let spool = try Spool(directory: mount.path + "/spool", configuration: config)
        var events: [SpoolEvent] = []
        spool.onEvent = { events.append($0) }
        var stored = 0
        // The disk fills after ~3 segments: the spool drops its oldest segment to make room (counted).
        for _ in 0..<6000 {
            do { try spool.appendExpected(1); stored += 1 } catch let error as SpoolError {
                guard case .noSpace = error else { Issue.record("unexpected \(error)"); return }
                #expect(error.description.contains("no space left"))
            }
        }
        #expect(stored > 1000)
        #expect(spool.dropped > 0)
        #expect(events.contains { if case .droppedOldest = $0 { true } else { false } })
        let read = try spool.readAll()
        for r in read { #expect(r.payload == payload(for: r.seq)) }
        #expect(read.map(\.seq) == Array((spool.nextSeq - UInt64(read.count))..<spool.nextSeq))
    }
}
