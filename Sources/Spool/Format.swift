/// On-disk formats. Everything little-endian; every header carries a CRC-32 (zlib's, computed by CRC32.swift).
///
/// Segment file `<baseSeq, 20 digits>.seg`:
///   header (32 bytes): magic "EASPOOL1", baseSeq u64, baseTimestamp i64 (ms), reserved u32, crc u32
///   then records, appended only, never rewritten.
/// Record (14-byte header + payload):
///   crc u32 over bytes 4..<end, length u16, seq - baseSeq u32, timestamp - baseTimestamp i32 (ms)
/// The deltas keep the header at 14 bytes (a 64-byte reading takes 78 bytes on disk); a record whose
/// deltas do not fit starts a new segment.
enum Format {
    static let segmentMagic: [UInt8] = Array("EASPOOL1".utf8)
    static let segmentHeaderSize = 32
    static let recordHeaderSize = 14
    static let maxPayload = Int(UInt16.max)
    /// Past any number a spool reaches (2^62 records): a larger sequence number, generation or count
    /// in a file is damage, refused at decode so that no later arithmetic on it can overflow.
    static let maxSequence: UInt64 = 1 << 62
    /// Timestamps within about 285,000 years of 1970, in milliseconds: the same reason.
    static let maxTimestampMagnitude: Int64 = 1 << 53

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 { CRC32.checksum(bytes) }

    static func segmentName(baseSeq: UInt64) -> String {
        let digits = String(baseSeq)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg"
    }

    static func baseSeq(fromSegmentName name: String) -> UInt64? {
        guard name.hasSuffix(".seg"), name.utf8.count == 24, let seq = UInt64(name.prefix(20)), seq <= maxSequence else { return nil }
        return seq
    }

    static func encodeSegmentHeader(baseSeq: UInt64, baseTimestamp: Int64, into p: UnsafeMutableRawBufferPointer) {
        for (i, b) in segmentMagic.enumerated() { p[i] = b }
        p.storeBytes(of: baseSeq.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: baseTimestamp.littleEndian, toByteOffset: 16, as: Int64.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 24, as: UInt32.self)
        let crc = crc32(UnsafeRawBufferPointer(rebasing: p[0..<28]))
        p.storeBytes(of: crc.littleEndian, toByteOffset: 28, as: UInt32.self)
    }

    /// (baseSeq, baseTimestamp) if the header is intact.
    static func decodeSegmentHeader(_ p: UnsafeRawBufferPointer) -> (baseSeq: UInt64, baseTimestamp: Int64)? {
        guard p.count >= segmentHeaderSize else { return nil }
        for (i, b) in segmentMagic.enumerated() where p[i] != b { return nil }
        guard
            UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self)) == crc32(UnsafeRawBufferPointer(rebasing: p[0..<28]))
        else { return nil }
        let baseSeq = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let baseTimestamp = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        guard baseSeq <= maxSequence, baseTimestamp.magnitude <= maxTimestampMagnitude.magnitude else { return nil }
        return (baseSeq, baseTimestamp)
    }

    /// Writes a record header and payload at `p` (which has room for both).
    static func encodeRecord(
        seqDelta: UInt32, timestampDelta: Int32, payload: UnsafeRawBufferPointer,
        into p: UnsafeMutableRawPointer
    ) {
        p.storeBytes(of: UInt16(payload.count).littleEndian, toByteOffset: 4, as: UInt16.self)
        p.storeBytes(of: seqDelta.littleEndian, toByteOffset: 6, as: UInt32.self)
        p.storeBytes(of: timestampDelta.littleEndian, toByteOffset: 10, as: Int32.self)
        if payload.count > 0 { (p + recordHeaderSize).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        let crc = crc32(UnsafeRawBufferPointer(start: p + 4, count: recordHeaderSize - 4 + payload.count))
        p.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    struct RecordHeader {
        var length: Int
        var seqDelta: UInt32
        var timestampDelta: Int32
        var totalSize: Int { recordHeaderSize + length }
    }

    enum RecordCheck {
        case valid(RecordHeader)
        /// Not enough bytes for the header or the payload it announces.
        case incomplete
        case corrupt
    }

    /// Checks the record at the start of `p`.
    static func checkRecord(_ p: UnsafeRawBufferPointer) -> RecordCheck {
        guard p.count >= recordHeaderSize else { return .incomplete }
        let length = Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt16.self)))
        guard p.count >= recordHeaderSize + length else { return .incomplete }
        let stored = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let actual = crc32(UnsafeRawBufferPointer(rebasing: p[4..<(recordHeaderSize + length)]))
        guard stored == actual else { return .corrupt }
        return .valid(
            RecordHeader(
                length: length,
                seqDelta: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 6, as: UInt32.self)),
                timestampDelta: Int32(littleEndian: p.loadUnaligned(fromByteOffset: 10, as: Int32.self))))
    }
}
