import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// The delivery cursor: the first sequence number not yet acknowledged, plus the count of readings
/// dropped for lack of room. Stored in two alternating 32-byte slots, each with a generation and a
/// CRC, so a write torn by a power cut leaves the other slot intact: no rename, no new inode.
struct CursorFile {
    struct State: Equatable {
        var nextUnacknowledged: UInt64
        var dropped: UInt64
    }

    static let slotSize = 32
    let path: String
    let fd: FileDescriptor
    private var generation: UInt64 = 0

    /// Opens (creating) the file and takes an exclusive lock on it: one agent per spool.
    init(path: String) throws(SpoolError) {
        self.path = path
        do { fd = try FileDescriptor.open(path, .readWrite, options: [.create, .closeOnExec], permissions: [.ownerReadWrite]) } catch {
            throw .system(operation: "open", path: path, errno: error)
        }
        // A lock held for an instant is not a second agent: a process that forks (posix_spawn from
        // another thread, say) shares our descriptors until its child calls exec, and with them
        // the lock. Wait up to half a second before calling the spool in use.
        var attempts = 0
        while flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            attempts += 1
            guard errno == EWOULDBLOCK || errno == EINTR, attempts < 50 else {
                try? fd.close()
                throw .inUse(path: path)
            }
            usleep(10_000)
        }
    }

    func close() { try? fd.close() }

    /// The newest intact slot, or nil if neither is (new spool, or the file was lost).
    mutating func load() -> State? {
        var bytes = [UInt8](repeating: 0, count: 2 * CursorFile.slotSize)
        let n = (try? bytes.withUnsafeMutableBytes { try fd.read(fromAbsoluteOffset: 0, into: $0) }) ?? 0
        var best: (generation: UInt64, state: State)?
        bytes.withUnsafeBytes { raw in
            for slot in 0..<2 where n >= (slot + 1) * CursorFile.slotSize {
                let p = UnsafeRawBufferPointer(rebasing: raw[(slot * CursorFile.slotSize)..<((slot + 1) * CursorFile.slotSize)])
                let crc = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
                guard crc == Format.crc32(UnsafeRawBufferPointer(rebasing: p[0..<24])) else { continue }
                let generation = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
                guard generation > 0, generation <= Format.maxSequence else { continue }
                let state = State(
                    nextUnacknowledged: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                    dropped: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
                guard state.nextUnacknowledged <= Format.maxSequence, state.dropped <= Format.maxSequence else { continue }
                if best == nil || generation > best!.generation { best = (generation, state) }
            }
        }
        generation = best?.generation ?? 0
        return best?.state
    }

    /// Writes the next slot. `sync` makes it durable before returning.
    mutating func store(_ state: State, sync: Bool) throws(SpoolError) {
        generation += 1
        var slot = [UInt8](repeating: 0, count: CursorFile.slotSize)
        slot.withUnsafeMutableBytes { p in
            p.storeBytes(of: generation.littleEndian, toByteOffset: 0, as: UInt64.self)
            p.storeBytes(of: state.nextUnacknowledged.littleEndian, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: state.dropped.littleEndian, toByteOffset: 16, as: UInt64.self)
            let crc = Format.crc32(UnsafeRawBufferPointer(rebasing: p[0..<24]))
            p.storeBytes(of: crc.littleEndian, toByteOffset: 24, as: UInt32.self)
        }
        let offset = Int64(generation % 2) * Int64(CursorFile.slotSize)
        do {
            _ = try slot.withUnsafeBytes { try fd.writeAll(toAbsoluteOffset: offset, $0, path: path) }
        } catch {
            let errno = error as? Errno ?? .ioError
            if errno == .noSpace { throw .noSpace(path: path) }
            throw .system(operation: "write cursor", path: path, errno: errno)
        }
        if sync && FileFaults.sync(fd.rawValue, path: path) != 0 {
            throw .system(operation: "fdatasync", path: path, errno: Errno(rawValue: errno))
        }
    }
}
