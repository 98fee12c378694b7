import Syscalls

/// Why the spool could not do what was asked. Descriptions name the file and the operation.
public enum SpoolError: Error, CustomStringConvertible, Equatable, Sendable {
    case system(operation: String, path: String, errno: Errno)
    /// The disk (or the file-size limit) is full; the record was not stored.
    case noSpace(path: String)
    case recordTooLarge(Int)
    case capacityTooSmall(capacity: Int, segmentBytes: Int)
    case inUse(path: String)

    public var description: String {
        switch self {
        case .system(let operation, let path, let errno): "spool \(path): \(operation): \(errno)"
        case .noSpace(let path): "spool \(path): no space left on the device"
        case .recordTooLarge(let n): "spool record of \(n) bytes exceeds the 65535-byte limit"
        case .capacityTooSmall(let c, let s):
            "spool capacity of \(c) bytes is too small: it must hold two segments of \(s) bytes, and a segment at least \(SpoolConfiguration.minimumSegmentBytes) bytes (the smallest capacity is \(SpoolConfiguration.minimumCapacityBytes) bytes)"
        case .inUse(let path): "spool \(path) is in use by another process"
        }
    }
}
