#if canImport(Glibc)
import Glibc
#endif

/// The files of `remote_config.dir`: `trial` (a pushed configuration proving itself), `current`
/// (the confirmed one) and `state` (RemoteConfigState). Every write is a new file, fsync, rename
/// and a sync of the directory: a power cut at any moment leaves the old file or the new one,
/// whole, never a mix, and so a configuration that starts.
struct ConfigStore {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let dir: String

    init(dir: String) throws(Failure) {
        self.dir = dir
        try ConfigStore.makeDirectories(dir)
        // A write a kill or a power cut interrupted before its rename: never read, only cleared.
        for name in ["trial", "current", "state"] { unlink(path("\(name).new")) }
    }

    func path(_ name: String) -> String { "\(dir)/\(name)" }

    /// The file's bytes; nil when it does not exist (or cannot be read, which is logged).
    func read(_ name: String) -> [UInt8]? {
        let fd = open(path(name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno != ENOENT { Log.error("cannot read \(path(name)): \(String(cString: strerror(errno)))") }
            return nil
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while bytes.count <= 4 * ConfigPush.maxTextBytes {
            let n = Glibc.read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        return bytes
    }

    /// Replaces `name` with `bytes`, atomically and durably. `crashPoint` names the moment
    /// between the written file and its rename, for the tests that kill the agent there.
    func write(_ name: String, _ bytes: [UInt8], crashPoint: CrashPoint? = nil) throws(Failure) {
        let temporary = path("\(name).new")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("cannot write \(temporary)")
                close(fd); unlink(temporary)
                throw error
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let error = failure("cannot sync \(temporary)")
            close(fd); unlink(temporary)
            throw error
        }
        close(fd)
        crashPoint?.reached()
        guard rename(temporary, path(name)) == 0 else {
            let error = failure("cannot rename \(temporary)")
            unlink(temporary)
            throw error
        }
        try syncDirectory()
    }

    /// `from` becomes `to` (replacing it), durably.
    func move(_ from: String, to: String) throws(Failure) {
        guard rename(path(from), path(to)) == 0 else { throw failure("cannot rename \(path(from)) to \(path(to))") }
        try syncDirectory()
    }

    func remove(_ name: String) throws(Failure) {
        guard unlink(path(name)) == 0 || errno == ENOENT else { throw failure("cannot remove \(path(name))") }
        try syncDirectory()
    }

    /// Keeps a file that is no longer used (damaged, or replaced by a local edit) for a person to
    /// look at, under `<name>.set-aside`, replacing an older one.
    func setAside(_ name: String) {
        do { try move(name, to: "\(name).set-aside") } catch {
            Log.error("\(error); removing it instead")
            unlink(path(name))
        }
    }

    private func syncDirectory() throws(Failure) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open \(dir)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync \(dir)") }
    }

    private func failure(_ what: String) -> Failure { Failure(description: "\(what): \(String(cString: strerror(errno)))") }

    private static func makeDirectories(_ dir: String) throws(Failure) {
        var prefix = ""
        for part in dir.split(separator: "/") {
            prefix += "/\(part)"
            if mkdir(prefix, 0o750) != 0 && errno != EEXIST {
                throw Failure(description: "cannot create \(prefix) (remote_config.dir): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// CLOCK_BOOTTIME: shared by every process of one boot and counting suspend, so a deadline
    /// set before a re-exec holds after it; smaller than a stored time only after a reboot.
    static func bootTime() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Moments of a configuration switch where the tests kill the agent (SIGKILL), to show that each
/// leaves a board that starts on one of the two configurations. Named by the environment variable
/// `EDGE_AGENT_CRASH_AT`, read once; never set in service.
enum CrashPoint: String {
    /// The new configuration's file is written and synced, not yet renamed into place.
    case trialWritten = "trial-written"
    /// Renamed into place; the agent has not yet replied or re-executed.
    case trialRenamed = "trial-renamed"
    /// The re-executed agent has chosen the new configuration, before counting the start.
    case restarted
    /// Connected with it and the status taken, before it is marked confirmed.
    case unconfirmed
    /// Marked confirmed (renamed to `current`), before the state records it.
    case confirming

    private static let chosen: CrashPoint? = getenv("EDGE_AGENT_CRASH_AT").flatMap { CrashPoint(rawValue: String(cString: $0)) }

    func reached() {
        guard CrashPoint.chosen == self else { return }
        Log.notice("EDGE_AGENT_CRASH_AT=\(rawValue): killing this process")
        raise(SIGKILL)
    }
}
