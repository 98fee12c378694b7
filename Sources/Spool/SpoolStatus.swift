import Syscalls

#if canImport(Glibc)
import Glibc
#endif

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
