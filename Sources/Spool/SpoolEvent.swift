/// Things the spool reports as they happen; none of them stops it. Numbers are the spool's own
/// record numbers; the agent turns them into words (its SpoolEvents).
public enum SpoolEvent: Equatable, Sendable {
    /// Why the oldest segment went before its readings were acknowledged.
    public enum DropReason: Equatable, Sendable {
        /// The spool reached its configured capacity.
        case capacity
        /// The file system had no room for the newest records.
        case diskFull
    }

    /// The oldest segment went; its unacknowledged records, `seqs`, taken between `from` and `to`
    /// (milliseconds since the Unix epoch), are gone from the disk; `unsent` of them were never
    /// sent (the others are in flight or went out live) and are counted in `dropped`.
    case droppedOldest(seqs: Range<UInt64>, unsent: UInt64, from: Int64, to: Int64, reason: DropReason)
    /// Writing to the disk failed (the first failure of an episode); appends are refused or held in
    /// memory, per the durability policy, and the write is retried once a second.
    case writeFailed(SpoolError)
    /// Writing works again after `failures` refused attempts over `seconds`.
    case writingResumed(failures: UInt64, seconds: UInt64)
    /// A torn record at the end of the newest segment (a crash mid-write) was cut off at open.
    case truncatedTail(bytes: Int, segment: String)
    /// Records that failed their checksum were skipped; `fromSeq...toSeq` are missing.
    case skippedCorrupt(fromSeq: UInt64, toSeq: UInt64, segment: String)
    /// A segment whose header is unreadable was set aside (renamed to .corrupt).
    case quarantinedSegment(segment: String)
    /// No intact cursor was found; delivery restarts at the oldest record kept (at-least-once).
    case cursorLost
}
