#if canImport(Glibc)
import Glibc
#endif

/// A Linux error number, described as strerror(3) says it (`No space left on device`). The few
/// typed system-call faces the spool, sockets and loop need, in place of swift-system, whose
/// current releases need Swift 6.1 (Debian 13's Swift is 6.0).
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's errno now.
    public static var current: Errno { Errno(rawValue: errno) }

    public static let ioError = Errno(rawValue: EIO)
    public static let noSpace = Errno(rawValue: ENOSPC)
    public static let fileTooLarge = Errno(rawValue: EFBIG)
    public static let interrupted = Errno(rawValue: EINTR)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let brokenPipe = Errno(rawValue: EPIPE)

    public var description: String { String(cString: strerror(rawValue)) }
}
