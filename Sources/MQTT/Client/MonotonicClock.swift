#if canImport(Glibc)
import Syscalls
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds: never jumps when NTP sets the wall clock.
public enum MonotonicClock {
    @inline(__always)
    public static func now() -> Nanoseconds {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
