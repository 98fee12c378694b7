/// A growable byte buffer with explicit reader and writer indices, reused across packets so that
/// steady-state encoding and decoding allocate nothing (the swift-nio `ByteBuffer` idea, minus
/// copy-on-write: one owner, one storage block).
///
/// Readable bytes are `[readerIndex, writerIndex)`. Writers append at `writerIndex`; readers
/// consume from `readerIndex`. `compact()` moves unread bytes to the front so space is recycled.
public final class WireBuffer {
    public private(set) var capacity: Int
    public private(set) var readerIndex: Int = 0
    public private(set) var writerIndex: Int = 0
    private var storage: UnsafeMutableRawPointer

    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 16)
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { storage.deallocate() }

    public var readableBytes: Int { writerIndex - readerIndex }
    public var isEmpty: Bool { readerIndex == writerIndex }

    /// The unread bytes. Valid until the next mutation of the buffer.
    public var readableView: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + readerIndex, count: readableBytes)
    }

    /// Discards everything; keeps the storage.
    public func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    public func moveReaderIndex(forwardBy count: Int) {
        precondition(count >= 0 && count <= readableBytes, "WireBuffer: read past the writer index")
        readerIndex += count
        if readerIndex == writerIndex { clear() }
    }

    /// Moves the unread bytes to the front of the storage.
    public func compact() {
        guard readerIndex > 0 else { return }
        let count = readableBytes
        if count > 0 { (storage).copyMemory(from: storage + readerIndex, byteCount: count) }
        readerIndex = 0
        writerIndex = count
    }

    /// Makes room for at least `count` more bytes after `writerIndex`, compacting first and growing
    /// (by doubling) only when that is not enough. Growth is the only allocation this type does.
    @inline(__always)
    public func reserveWritable(_ count: Int) {
        if capacity - writerIndex >= count { return } // the usual case, inlined into every write
        makeRoom(count)
    }

    private func makeRoom(_ count: Int) {
        compact()
        if capacity - writerIndex >= count { return }
        var newCapacity = capacity
        while newCapacity - writerIndex < count { newCapacity *= 2 }
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        newStorage.copyMemory(from: storage, byteCount: writerIndex)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    /// Space after `writerIndex`, for a `read(2)` to fill; follow with `didWrite(_:)`.
    public func writableTail(minimum: Int) -> UnsafeMutableRawBufferPointer {
        reserveWritable(minimum)
        return UnsafeMutableRawBufferPointer(start: storage + writerIndex, count: capacity - writerIndex)
    }

    public func didWrite(_ count: Int) {
        precondition(count >= 0 && writerIndex + count <= capacity)
        writerIndex += count
    }

    /// Drops everything written after `index` (used to roll back a half-encoded packet).
    public func truncate(toWriterIndex index: Int) {
        precondition(index >= readerIndex && index <= writerIndex)
        writerIndex = index
    }

    // MARK: Writing, big-endian as MQTT's wire format is (MQTT 3.1.1 section 1.5.2)

    @inline(__always)
    public func writeByte(_ byte: UInt8) {
        reserveWritable(1)
        storage.storeBytes(of: byte, toByteOffset: writerIndex, as: UInt8.self)
        writerIndex += 1
    }

    @inline(__always)
    public func writeUInt16(_ value: UInt16) {
        reserveWritable(2)
        storage.storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), toByteOffset: writerIndex, as: UInt8.self)
        storage.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: writerIndex + 1, as: UInt8.self)
        writerIndex += 2
    }

    public func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserveWritable(bytes.count)
        (storage + writerIndex).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writerIndex += bytes.count
    }

    public func writeBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeBytes($0) }
    }

    /// Writes a string's UTF-8 bytes with no length prefix. Native Swift strings are contiguous,
    /// so this does not allocate.
    public func writeUTF8(_ string: String) {
        var string = string
        string.withUTF8 { writeBytes(UnsafeRawBufferPointer($0)) }
    }

    /// The variable-length "Remaining Length" of MQTT 3.1.1 section 2.2.3.
    public func writeRemainingLength(_ length: Int) {
        precondition(length >= 0 && length <= MQTTLimits.maxRemainingLength)
        var value = length
        repeat {
            var byte = UInt8(value % 128)
            value /= 128
            if value > 0 { byte |= 0x80 }
            writeByte(byte)
        } while value > 0
    }

    /// Returns a copy of the readable bytes (tests and diagnostics only).
    public func readableArray() -> [UInt8] { Array(readableView) }
}
