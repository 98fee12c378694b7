import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// One segment file as the spool tracks it.
struct SegmentFile {
    var baseSeq: UInt64
    var baseTimestamp: Int64
    var path: String
    /// Bytes on disk (the active segment's buffered bytes are counted by the spool separately).
    var size: Int
}
