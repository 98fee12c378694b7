import Spool

@testable import Agent

#if canImport(Glibc)
import Glibc
#endif

/// Spool recovery from whatever a disk returns: the input is split into a segment file, the
/// cursor file and the sequences file (two length bytes before each of the first two), written
/// to a fresh directory (on tmpfs: /dev/shm), opened, read to the end, acknowledged and appended to;
/// the last part is also read as the spool's device file.
enum FuzzSpool {
    static let base: String = {
        var template: [CChar] = Array("/dev/shm/edge-fuzz-spool-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { fatalError("mkdtemp") }
        return String(cString: dir)
    }()

    static func run(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        func take() -> UnsafeRawBufferPointer {
            guard rest.count >= 2 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            let n = min(Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1]), rest.count - 2)
            let part = UnsafeRawBufferPointer(rebasing: rest[(rest.startIndex + 2)..<(rest.startIndex + 2 + n)])
            rest = rest[(rest.startIndex + 2 + n)...]
            return part
        }
        let segment = take()
        let cursor = take()
        let sequences = UnsafeRawBufferPointer(rebasing: rest)
        let dir = base + "/s"
        for name in (try? listDirectory(dir)) ?? [] { unlink(dir + "/" + name) }
        mkdir(dir, 0o700)
        // The segment's name carries its base sequence number: take it from the segment's header.
        var baseSeq: UInt64 = 0
        if segment.count >= 16 { baseSeq = segment.loadUnaligned(fromByteOffset: 8, as: UInt64.self) }
        let digits = String(baseSeq)
        write(dir + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".seg", segment)
        if !cursor.isEmpty { write(dir + "/cursor", cursor) }
        write(dir + "/sequences", sequences)
        var configuration = SpoolConfiguration(capacityBytes: 1 << 20, durability: .never)
        configuration.writeBufferBytes = 4096 // small: more flushes, and a cheaper allocation per input
        guard let spool = try? Spool(directory: dir, configuration: configuration) else { return }
        _ = spool.drainEvents()
        var last: UInt64?
        while let n = try? spool.read(max: 64, { last = $0.seq }), n > 0 {}
        if let last { try? spool.ack(through: last) }
        _ = try? spool.append(UnsafeRawBufferPointer(rebasing: bytes.prefix(64)), timestamp: 1_700_000_000_000)
        _ = SequenceStore.parse(String(decoding: sequences, as: UTF8.self))
        // The same bytes as the file naming the spool's device (SpoolOwner).
        write(dir + "/" + SpoolOwner.fileName, sequences)
        _ = SpoolOwner.finding(directory: dir, device: "fuzz")
    }

    static func write(_ path: String, _ bytes: UnsafeRawBufferPointer) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        _ = Glibc.write(fd, bytes.baseAddress, bytes.count)
        close(fd)
    }

    static func listDirectory(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
