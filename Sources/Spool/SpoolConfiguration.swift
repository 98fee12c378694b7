import Syscalls

public struct SpoolConfiguration: Sendable, Equatable {
    /// When appended records are made durable (fdatasync). Whatever the policy, records reach the
    /// kernel (write(2)) at least every `flushInterval`, so a crash of the process alone loses at most
    /// that much; a power cut loses what the policy says.
    public enum Durability: Sendable, Equatable {
        /// fdatasync after every append: nothing acknowledged by `append` is lost. Slowest, most writes.
        case always
        /// fdatasync every interval: a power cut loses at most the last interval.
        case interval(Nanoseconds)
        /// Never fdatasync; the kernel writes back when it likes (about 30 s on Linux by default).
        case never
    }

    public var capacityBytes: Int = 64 * 1024 * 1024
    /// Size of each segment file; the oldest whole segment is dropped when the spool is full.
    public var segmentBytes: Int = 4 * 1024 * 1024
    public var durability: Durability = .interval(1_000_000_000)
    public var flushInterval: Nanoseconds = 1_000_000_000
    /// Records are batched here and written in whole buffers (of whole pages where possible).
    public var writeBufferBytes: Int = 64 * 1024

    public init(capacityBytes: Int = 64 * 1024 * 1024, segmentBytes: Int? = nil, durability: Durability = .interval(1_000_000_000)) {
        self.capacityBytes = capacityBytes
        self.segmentBytes = segmentBytes ?? max(SpoolConfiguration.minimumSegmentBytes, min(capacityBytes / 16, 4 * 1024 * 1024))
        self.durability = durability
    }

    /// A segment holds at least one record of the largest size.
    public static let minimumSegmentBytes = Format.segmentHeaderSize + Format.recordHeaderSize + Format.maxPayload
    /// The smallest capacity with default segments: two of the smallest.
    public static let minimumCapacityBytes = 2 * minimumSegmentBytes

    /// Why the spool would refuse this configuration, or nil. The one rule, shared by `Spool.init`
    /// and the configuration check.
    public var problem: SpoolError? {
        guard segmentBytes >= SpoolConfiguration.minimumSegmentBytes, capacityBytes >= 2 * segmentBytes else {
            return .capacityTooSmall(capacity: capacityBytes, segmentBytes: segmentBytes)
        }
        return nil
    }
}
