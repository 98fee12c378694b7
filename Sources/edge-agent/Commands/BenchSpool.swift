import Agent
import ArgumentParser
import MQTT
import Spool

#if canImport(Glibc)
import Glibc
#endif

/// `edge-agent bench spool`: appends per second and bytes written per record for 64-byte readings
/// under each durability policy, and the time to reopen a full spool.
struct BenchSpool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Measure the spool: appends/s, bytes written per record, reopen time.")

    @Option(help: "Directory to create spools in (on the disk to measure; not tmpfs).")
    var dir: String

    @Option(help: "Appends per measured run (the 'always' policy does a tenth, each is an fdatasync).")
    var appends = 1_000_000

    @Option(help: "Payload size in bytes.")
    var size = 64

    @Option(help: "Capacity of the spool filled for the reopen measurement, MiB.")
    var reopenMiB = 64

    @Option(help: "Measure only this policy (interval, never or always) and skip the reopen run; for allocation counts under valgrind.")
    var only: String?

    func run() throws {
        let payload = [UInt8](repeating: 0x5A, count: size)
        let recordBytes = 14 + size
        print("\(size)-byte payloads, \(recordBytes) bytes per record on disk (14-byte header)")
        print("policy          appends/s   handed to kernel B/rec   written to disk B/rec   x payload   x (payload+seq+ts)")
        for (name, durability, count) in [
            ("interval 1 s", SpoolConfiguration.Durability.interval(1_000_000_000), appends),
            ("never", .never, appends),
            ("always", .always, max(appends / 100, 1000)),
        ]
        where only == nil || name.hasPrefix(only!) {
            let path = "\(dir)/bench-\(getpid())-\(name.split(separator: " ")[0])"
            defer { removeTree(path) }
            let spool = try Spool(
                directory: path, configuration: SpoolConfiguration(capacityBytes: 1 << 30, segmentBytes: 4 << 20, durability: durability))
            let before = IOCounters.read()
            let start = MonotonicClock.now()
            try payload.withUnsafeBytes { raw in
                for i in 0..<count { try spool.append(raw, timestamp: 1_700_000_000_000 + Int64(i)) }
            }
            try spool.sync()
            let seconds = Double(MonotonicClock.now() - start) / 1e9
            // Count what the policy left in the page cache too, so every policy pays for its bytes.
            syncDirectory(path)
            let after = IOCounters.read()
            let handed = Double(after.wchar - before.wchar) / Double(count)
            let written = Double(after.writeBytes - before.writeBytes) / Double(count)
            print(
                "\(pad(name, 14))  \(pad(String(Int(Double(count) / seconds)), 10, right: true))   \(pad(format(handed, 1), 22, right: true))   \(pad(format(written, 1), 21, right: true))   \(pad(format(written / Double(size), 2), 9, right: true))   \(pad(format(written / Double(size + 16), 2), 18, right: true))"
            )
        }
        if only != nil { return }
        // Reopen a full spool whose newest segment is full too: the worst case, since only the
        // newest segment is scanned record by record.
        let path = "\(dir)/bench-\(getpid())-reopen"
        defer { removeTree(path) }
        let config = SpoolConfiguration(capacityBytes: reopenMiB << 20, durability: .interval(1_000_000_000))
        do {
            let spool = try Spool(directory: path, configuration: config)
            try payload.withUnsafeBytes { raw in
                while spool.dropped == 0 { try spool.append(raw, timestamp: 1_700_000_000_000) }
                while spool.newestSegmentBytes + 2 * recordBytes <= config.segmentBytes {
                    try spool.append(raw, timestamp: 1_700_000_000_000)
                }
            }
        }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = MonotonicClock.now()
            let spool = try Spool(directory: path, configuration: config)
            best = min(best, Double(MonotonicClock.now() - start) / 1e6)
            _ = spool.nextSeq
        }
        let check = try Spool(directory: path, configuration: config)
        let status = try check.status()
        print("reopened spool: \(status.bytesOnDisk) bytes in \(status.segments) segments, newest \(check.newestSegmentBytes) bytes")
        print("reopen of a full \(reopenMiB) MiB spool: \(format(best, 1)) ms (best of 5)")
    }
}

private func syncDirectory(_ path: String) {
    guard let dir = opendir(path) else { return }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        let fd = open(path + "/" + name, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}

private func removeTree(_ path: String) {
    guard let dir = opendir(path) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(dir)
    rmdir(path)
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
