/// A topic prefix followed by a name, written into one buffer allocated once.
final class TopicBuilder {
    private let prefixCount: Int
    private let buffer: UnsafeMutableRawBufferPointer

    init(prefix: String) {
        let bytes = Array(prefix.utf8)
        prefixCount = bytes.count
        buffer = .allocate(byteCount: bytes.count + 256, alignment: 8)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    deinit { buffer.deallocate() }

    func topic(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let end = prefixCount + min(name.count, 255)
        UnsafeMutableRawBufferPointer(rebasing: buffer[prefixCount..<end]).copyMemory(
            from: UnsafeRawBufferPointer(rebasing: name[0..<(end - prefixCount)]))
        return UnsafeRawBufferPointer(rebasing: buffer[0..<end])
    }
}
