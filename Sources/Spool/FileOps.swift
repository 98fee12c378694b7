import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// Thin wrappers over the few syscalls FileDescriptor does not offer, with the spool's errors.
enum FileOps {
    static func sync(_ fd: FileDescriptor, path: String) throws(SpoolError) {
        while FileFaults.sync(fd.rawValue, path: path) != 0 {
            if errno == EINTR { continue }
            throw .system(operation: "fdatasync", path: path, errno: Errno(rawValue: errno))
        }
    }

    /// fsync of a directory makes file creations and deletions in it durable.
    static func syncDirectory(_ path: String) throws(SpoolError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open directory", path: path, errno: Errno(rawValue: errno)) }
        defer { close(fd) }
        if FileFaults.sync(fd, path: path, full: true) != 0 {
            throw .system(operation: "fsync directory", path: path, errno: Errno(rawValue: errno))
        }
    }

    static func truncate(_ fd: FileDescriptor, to size: Int, path: String) throws(SpoolError) {
        do { try fd.resize(to: Int64(size)) } catch { throw .system(operation: "truncate", path: path, errno: error) }
    }

    static func fileSize(_ fd: FileDescriptor, path: String) throws(SpoolError) -> Int {
        do { return Int(try fd.seek(offset: 0, from: .end)) } catch { throw .system(operation: "seek", path: path, errno: error) }
    }

    /// Reads up to `buffer.count` bytes at `offset`; fewer at the end of the file.
    static func read(_ fd: FileDescriptor, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, path: String) throws(SpoolError)
        -> Int
    {
        var total = 0
        while total < buffer.count {
            let n = pread(fd.rawValue, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "read", path: path, errno: Errno(rawValue: errno))
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Names of the segment files in `directory`, sorted by base sequence number.
    static func listSegments(_ directory: String) throws(SpoolError) -> [(baseSeq: UInt64, name: String)] {
        guard let dir = opendir(directory) else {
            throw .system(operation: "list", path: directory, errno: Errno(rawValue: errno))
        }
        defer { closedir(dir) }
        var result: [(UInt64, String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if let base = Format.baseSeq(fromSegmentName: name) { result.append((base, name)) }
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
