import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// A record handed to a reader. The payload is valid only during the callback.
public struct SpoolRecord {
    public let seq: UInt64
    /// Milliseconds since the Unix epoch, as given to `append`.
    public let timestamp: Int64
    public let payload: UnsafeRawBufferPointer
}
