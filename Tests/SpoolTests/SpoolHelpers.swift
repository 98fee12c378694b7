import Foundation
import Spool
import TestSupport

/// The payload the tests (and the crash writer) expect for a sequence number.
func payload(for seq: UInt64) -> [UInt8] {
    let length = 8 + Int(seq % 200)
    return (0..<length).map { UInt8(truncatingIfNeeded: seq &* 31 &+ UInt64($0)) }
}

func timestamp(for seq: UInt64) -> Int64 { 1_700_000_000_000 + Int64(seq) }

struct ReadRecord: Equatable {
    var seq: UInt64
    var timestamp: Int64
    var payload: [UInt8]
}

extension Spool {
    func readAll(max: Int = .max) throws -> [ReadRecord] {
        var records: [ReadRecord] = []
        try read(max: max) { records.append(ReadRecord(seq: $0.seq, timestamp: $0.timestamp, payload: Array($0.payload))) }
        return records
    }

    @discardableResult
    func appendExpected(_ count: Int) throws -> [UInt64] {
        try (0..<count).map { _ in
            let seq = nextSeq
            return try append(payload(for: seq), timestamp: timestamp(for: seq))
        }
    }
}

func segmentFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
}

let smallSegments = SpoolConfiguration(capacityBytes: 4 * 70_000, segmentBytes: 70_000, durability: .always)
