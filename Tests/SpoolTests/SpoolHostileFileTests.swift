import Foundation
import TestSupport
import Testing

@testable import Spool

/// Spool files are outside input: a disk can return anything, checksums included. Each case here
/// trapped (arithmetic overflow) before the bounds at decode; found by scripts/fuzz.sh's spool target.
@Suite("Spool files with hostile values")
struct SpoolHostileFileTests {
    func write(_ bytes: [UInt8], _ path: String) { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }

    /// A segment header whose checksum is right and whose values are not plausible.
    func header(baseSeq: UInt64, baseTimestamp: Int64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Format.segmentHeaderSize)
        bytes.withUnsafeMutableBytes { Format.encodeSegmentHeader(baseSeq: baseSeq, baseTimestamp: baseTimestamp, into: $0) }
        return bytes
    }

    func record(seq: UInt64, base: UInt64, payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Format.recordHeaderSize + payload.count)
        payload.withUnsafeBytes { p in
            bytes.withUnsafeMutableBytes {
                Format.encodeRecord(seqDelta: UInt32(seq - base), timestampDelta: 0, payload: p, into: $0.baseAddress!)
            }
        }
        return bytes
    }

    @Test func aSegmentNearTheEndOfTheSequenceSpaceIsNotTrusted() throws {
        let dir = TemporaryDirectory("spool-hostile")
        let base = UInt64.max - 3
        write(
            header(baseSeq: base, baseTimestamp: 0) + record(seq: base, base: base, payload: [1, 2, 3]),
            dir.file(Format.segmentName(baseSeq: base)))
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(spool.nextSeq <= 1 << 62)
        try spool.appendExpected(3) // trapped here: nextSeq + 1 past UInt64.max
        #expect(try spool.readAll().count == 3)
    }

    @Test func aSegmentWithAnImpossibleTimestampIsQuarantined() throws {
        let dir = TemporaryDirectory("spool-hostile")
        write(
            header(baseSeq: 0, baseTimestamp: Int64.min) + record(seq: 0, base: 0, payload: [1]), dir.file(Format.segmentName(baseSeq: 0)))
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(spool.drainEvents().contains(.quarantinedSegment(segment: Format.segmentName(baseSeq: 0))))
        try spool.appendExpected(2) // trapped here: timestamp - Int64.min
        #expect(try spool.readAll().map(\.seq) == [0, 1])
    }

    @Test func aCursorWithImpossibleValuesCountsAsLost() throws {
        let dir = TemporaryDirectory("spool-hostile")
        do { let spool = try Spool(directory: dir.path, configuration: smallSegments); try spool.appendExpected(5); try spool.sync() }
        var slot = [UInt8](repeating: 0, count: CursorFile.slotSize)
        slot.withUnsafeMutableBytes { p in
            p.storeBytes(of: UInt64(7).littleEndian, toByteOffset: 0, as: UInt64.self) // generation
            p.storeBytes(of: UInt64.max.littleEndian, toByteOffset: 8, as: UInt64.self) // next unacknowledged
            p.storeBytes(of: UInt64.max.littleEndian, toByteOffset: 16, as: UInt64.self) // dropped
            p.storeBytes(of: Format.crc32(UnsafeRawBufferPointer(rebasing: p[0..<24])).littleEndian, toByteOffset: 24, as: UInt32.self)
        }
        write(slot + slot, dir.file("cursor"))
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        #expect(spool.drainEvents() == [.cursorLost])
        #expect(try spool.readAll().map(\.seq) == Array(0..<5))
        try spool.appendExpected(1)
    }

    @Test func aCorruptRecordFollowedByACopyOfItselfIsSkippedOnce() throws {
        let dir = TemporaryDirectory("spool-hostile")
        var first = record(seq: 0, base: 0, payload: payload(for: 0))
        let copy = first
        first[first.count - 1] ^= 0xFF // fails its checksum
        write(
            header(baseSeq: 0, baseTimestamp: timestamp(for: 0)) + first + copy + record(seq: 1, base: 0, payload: payload(for: 1)),
            dir.file(Format.segmentName(baseSeq: 0)))
        let spool = try Spool(directory: dir.path, configuration: smallSegments)
        _ = spool.drainEvents()
        // Resync lands on seq 0 again, the read position itself: nothing is missing (trapped: 0 - 1).
        let read = try spool.readAll()
        #expect(read.map(\.seq) == [0, 1])
        #expect(spool.corruptRecords == 0)
    }
}
