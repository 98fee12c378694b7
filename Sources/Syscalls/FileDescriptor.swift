#if canImport(Glibc)
import Glibc
#endif

/// An open file: the calls the spool makes, each retried on EINTR and failing with its `Errno`.
public struct FileDescriptor: Equatable, Hashable, Sendable {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public enum AccessMode: Sendable { case readOnly, writeOnly, readWrite }

    public struct OpenOptions: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let create = OpenOptions(rawValue: O_CREAT)
        public static let truncate = OpenOptions(rawValue: O_TRUNC)
        public static let append = OpenOptions(rawValue: O_APPEND)
        public static let closeOnExec = OpenOptions(rawValue: O_CLOEXEC)
    }

    public struct FilePermissions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let ownerReadWrite = FilePermissions(rawValue: 0o600)
        public static let groupRead = FilePermissions(rawValue: 0o040)
    }

    public enum SeekOrigin: Sendable { case start, current, end }

    public static func open(
        _ path: String, _ mode: AccessMode, options: OpenOptions = [],
        permissions: FilePermissions? = nil
    ) throws(Errno) -> FileDescriptor {
        let access: Int32 =
            switch mode {
            case .readOnly: O_RDONLY
            case .writeOnly: O_WRONLY
            case .readWrite: O_RDWR
            }
        while true {
            let fd = Glibc.open(path, access | options.rawValue, mode_t(permissions?.rawValue ?? 0o644))
            if fd >= 0 { return FileDescriptor(rawValue: fd) }
            if errno != EINTR { throw .current }
        }
    }

    public func close() throws(Errno) {
        // Linux closes the descriptor even when close(2) reports EINTR: never retry.
        if Glibc.close(rawValue) != 0 && errno != EINTR { throw .current }
    }

    /// Reads up to `buffer.count` bytes at `offset` (one pread); 0 at the end of the file.
    public func read(fromAbsoluteOffset offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        while true {
            let n = pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw .current }
        }
    }

    /// Writes every byte at `offset`, however many pwrite calls it takes. `path` names the file for
    /// `FileFaults`.
    @discardableResult
    public func writeAll(toAbsoluteOffset offset: Int64, _ bytes: UnsafeRawBufferPointer, path: String = "") throws(Errno) -> Int {
        var done = 0
        while done < bytes.count {
            let n = FileFaults.pwrite(rawValue, bytes.baseAddress! + done, bytes.count - done, at: offset + Int64(done), path: path)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw n < 0 ? .current : .ioError
        }
        return done
    }

    public func resize(to size: Int64) throws(Errno) {
        while ftruncate(rawValue, off_t(size)) != 0 {
            if errno != EINTR { throw .current }
        }
    }

    @discardableResult
    public func seek(offset: Int64, from origin: SeekOrigin) throws(Errno) -> Int64 {
        let whence: Int32 =
            switch origin {
            case .start: SEEK_SET
            case .current: SEEK_CUR
            case .end: SEEK_END
            }
        let position = lseek(rawValue, off_t(offset), whence)
        guard position >= 0 else { throw .current }
        return Int64(position)
    }
}
