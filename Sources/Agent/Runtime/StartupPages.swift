#if canImport(Glibc)
import Glibc
#endif

/// Gives back the memory that only start-up needed.
///
/// The binary and its libraries are mapped from files; argument parsing, the YAML parser, driver
/// set-up and the first TLS handshake fault in megabytes of code and read-only data that the loop
/// never touches again. Those pages are clean and the kernel would drop them under memory
/// pressure anyway, but until then they count in RSS: about 15 MB, against a working set of 5 to
/// 8 MB. Once the agent has settled, it asks the kernel (madvise MADV_PAGEOUT, Linux 5.4) to drop
/// the read-only file-backed pages it alone maps now; pages shared with other processes (libc)
/// are left alone by the kernel, and what the loop uses faults straight back in from the page cache.
enum StartupPages {
    /// When, after start, to release: connected, sampled, and past the first reconnect attempts.
    static let delay: UInt64 = 10_000_000_000

    /// Releases the pages and returns the resident set before and after, in kB (nil if unknown).
    @discardableResult
    static func release() -> (before: Int?, after: Int?) {
        let before = residentKilobytes()
        guard let maps = readFile("/proc/self/maps") else { return (before, nil) }
        let pageout: Int32 = 21 // MADV_PAGEOUT; older kernels answer EINVAL and nothing happens
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5].hasPrefix("/"), !fields[1].contains("w"),
                let dash = fields[0].firstIndex(of: "-"),
                let start = UInt(fields[0][..<dash], radix: 16),
                let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16), end > start,
                let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            // Code (r-x) is never written, so dropping this process's mapping of it (MADV_DONTNEED)
            // loses nothing, also for library pages shared with other processes, which stay in the
            // page cache. Read-only data may hold relocated pointers (RELRO, written at load time):
            // those go through page-out, which keeps their contents.
            _ = madvise(address, Int(end - start), fields[1].contains("x") ? MADV_DONTNEED : pageout)
        }
        return (before, residentKilobytes())
    }

    static func residentKilobytes() -> Int? {
        guard let status = readFile("/proc/self/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}
