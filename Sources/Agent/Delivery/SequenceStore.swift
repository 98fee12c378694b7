#if canImport(Glibc)
import Glibc
#endif

/// The per-sensor (and per-line) `seq` of readings, continuing across restarts.
///
/// A number is never handed out twice, even after a power cut: the file holds, for each name, a
/// bound not yet used, the next multiple of `blockSize`, and is rewritten (new file, fsync, rename)
/// before the counter passes it. A clean shutdown writes the exact next numbers, so the sequence
/// continues without a gap; after a crash it resumes at the bound (a multiple of 1024), and the
/// gap says so.
/// At 1 Hz that is one small write per sensor every 17 minutes: nothing for an SD card.
///
/// The file lives in the spool directory, whose lock (the spool's) keeps a second agent out.
final class SequenceStore {
    struct Counter {
        var next: UInt64
        var reserved: UInt64
    }

    static let blockSize: UInt64 = 1024
    let path: String
    private var names: [String] = []
    private var counters: [Counter] = []
    private var telemetry: [String: Int] = [:]
    private var events: [String: Int] = [:]
    /// The numbers the file held at load, for names not configured now (kept, not forgotten).
    private var others: [(String, UInt64)] = []

    /// Loads `directory/sequences`; a missing file starts every name at 0, an unreadable one is
    /// reported (through `warning`) and set aside, and its names start over at 0.
    init(directory: String, telemetry telemetryNames: [String], events eventNames: [String], warning: (String) -> Void) {
        path = directory + "/sequences"
        var stored: [String: UInt64] = [:]
        if let text = readFile(path) {
            switch SequenceStore.parse(text) {
            case .success(let values): stored = values
            case .failure(let failure):
                warning("\(path): \(failure.message); set aside as \(path).corrupt, sequence numbers start over")
                rename(path, path + ".corrupt")
            }
        }
        for (kind, list) in [("telemetry/", telemetryNames), ("events/", eventNames)] {
            for name in list {
                let key = kind + name
                let index = counters.count
                names.append(key)
                let start = stored.removeValue(forKey: key) ?? 0
                counters.append(Counter(next: start, reserved: start))
                if kind == "events/" { events[name] = index } else { telemetry[name] = index }
            }
        }
        others = stored.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func parse(_ text: String) -> Result<[String: UInt64], ParseFailure> {
        var values: [String: UInt64] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = UInt64(parts[1]) else { return .failure(ParseFailure("line \(number + 1) is not '<kind>/<name> <next>'")) }
            // A number no agent reaches (2^62 readings) is damage; taking it would overflow later.
            guard value <= SequenceStore.maxPlausible else { return .failure(ParseFailure("line \(number + 1): \(value) is past any real sequence number")) }
            values[String(parts[0])] = value
        }
        return .success(values)
    }

    static let maxPlausible: UInt64 = 1 << 62

    struct ParseFailure: Error, Equatable { let message: String; init(_ m: String) { message = m } }

    /// The next number for a name; nil for a name not configured (the caller stamps no seq).
    /// Does not allocate; writes the file once every `blockSize` numbers.
    func next(name: String, event: Bool) -> UInt64? {
        guard let index = event ? events[name] : telemetry[name] else { return nil }
        let value = counters[index].next
        counters[index].next += 1
        if counters[index].next > counters[index].reserved {
            counters[index].reserved = (counters[index].next / SequenceStore.blockSize + 1) * SequenceStore.blockSize
            store(exact: false)
        }
        return value
    }

    /// Writes the exact next numbers (clean shutdown): the sequence continues without a gap.
    func close() { store(exact: true) }

    private func store(exact: Bool) {
        var text = "# edge-agent: the next reading number per sensor and line (see README, Topics and payloads)\n"
        for (i, name) in names.enumerated() {
            text += "\(name) \(exact ? counters[i].next : counters[i].reserved)\n"
        }
        for (name, value) in others { text += "\(name) \(value)\n" }
        if let error = SequenceStore.writeAtomically(text, to: path) {
            Log.error("\(path): \(error); sequence numbers after a crash may repeat")
        }
    }

    /// Writes `text` to a new file, fsyncs it, renames it over `path` and fsyncs the directory.
    static func writeAtomically(_ text: String, to path: String) -> String? {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return "create \(temporary): \(String(cString: strerror(errno)))" }
        var text = text
        let written = text.withUTF8 { write(fd, $0.baseAddress, $0.count) == $0.count }
        let synced = written && fsync(fd) == 0
        let failure = errno
        Glibc.close(fd)
        guard synced else { unlink(temporary); return "write \(temporary): \(String(cString: strerror(failure)))" }
        guard rename(temporary, path) == 0 else { return "rename \(temporary): \(String(cString: strerror(errno)))" }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 { fsync(dirFD); Glibc.close(dirFD) }
        return nil
    }
}
