import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Faults a test injects into the file calls of the spool and the sequence store, as swift-system's
/// `Mocking.swift` does for its syscalls: a write that fails (ENOSPC, EIO) or takes only part of its
/// bytes (a short write; with a failure after it, a torn one), an fdatasync or fsync that fails, a
/// rename that fails. Each rule names the paths it applies to by prefix (a test's own temporary
/// directory), so tests running in parallel do not see each other's faults.
///
/// Without a rule, as in the agent, each call costs one atomic load on top of the system call.
public enum FileFaults {
    public enum Call: Sendable { case write, sync, rename }

    public enum Fault: Sendable, Equatable {
        /// The call does nothing and fails with this error.
        case fail(Errno)
        /// A write takes only this many bytes and reports so; the next write goes on normally.
        case short(Int)
    }

    struct Rule: Sendable {
        let call: Call
        let pathPrefix: String
        let fault: Fault
        var pass: Int
        var times: Int
    }

    private static let armed = Atomic<Int>(0)
    private static let rules = Mutex<[Rule]>([])

    /// From now on, the `call`s on paths starting with `pathPrefix` after the first `after` get
    /// `fault`, `times` times (Int.max: until `clear`).
    public static func inject(_ fault: Fault, on call: Call, under pathPrefix: String, after: Int = 0, times: Int = 1) {
        rules.withLock { $0.append(Rule(call: call, pathPrefix: pathPrefix, fault: fault, pass: after, times: times)) }
        armed.add(1, ordering: .sequentiallyConsistent)
    }

    /// Removes every rule for paths starting with `pathPrefix`.
    public static func clear(under pathPrefix: String) {
        let removed = rules.withLock { rules in
            let before = rules.count
            rules.removeAll { $0.pathPrefix == pathPrefix }
            return before - rules.count
        }
        armed.subtract(removed, ordering: .sequentiallyConsistent)
    }

    /// The fault for this call, if a rule has one now (and counts it).
    static func fault(_ call: Call, _ path: String) -> Fault? {
        guard armed.load(ordering: .relaxed) > 0 else { return nil }
        return rules.withLock { rules in
            guard let i = rules.firstIndex(where: { $0.call == call && $0.times > 0 && path.hasPrefix($0.pathPrefix) }) else {
                return nil
            }
            if rules[i].pass > 0 {
                rules[i].pass -= 1
                return nil
            }
            rules[i].times -= 1
            return rules[i].fault
        }
    }

    /// write(2) of `path`'s descriptor, or the injected fault (-1 with errno set, or a short count).
    public static func write(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, path: String) -> Int {
        switch fault(.write, path) {
        case .fail(let error)?:
            errno = error.rawValue
            return -1
        case .short(let taken)?:
            return Glibc.write(fd, bytes, min(count, taken))
        case nil:
            return Glibc.write(fd, bytes, count)
        }
    }

    /// pwrite(2), as `write`.
    public static func pwrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int64, path: String) -> Int {
        switch fault(.write, path) {
        case .fail(let error)?:
            errno = error.rawValue
            return -1
        case .short(let taken)?:
            return Glibc.pwrite(fd, bytes, min(count, taken), off_t(offset))
        case nil:
            return Glibc.pwrite(fd, bytes, count, off_t(offset))
        }
    }

    /// fdatasync(2) of `path`'s descriptor (`full`: fsync(2), as for a directory), or the fault.
    public static func sync(_ fd: Int32, path: String, full: Bool = false) -> Int32 {
        if case .fail(let error)? = fault(.sync, path) {
            errno = error.rawValue
            return -1
        }
        return full ? fsync(fd) : fdatasync(fd)
    }

    /// rename(2), or the fault (matched on the old path).
    public static func rename(_ old: String, _ new: String) -> Int32 {
        if case .fail(let error)? = fault(.rename, old) {
            errno = error.rawValue
            return -1
        }
        return Glibc.rename(old, new)
    }
}
