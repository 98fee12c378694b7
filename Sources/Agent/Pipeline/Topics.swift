/// The topic names of one device, with telemetry and event topics built into reused buffers.
final class Topics {
    let status: String
    let metrics: String
    let commandFilter: String
    let commandPrefix: [UInt8]
    private let replyPrefix: String
    private let telemetry: TopicBuilder
    private let events: TopicBuilder

    init(prefix: String, device: String) {
        status = "\(prefix)/\(device)/status"
        metrics = "\(prefix)/\(device)/metrics"
        commandFilter = "\(prefix)/\(device)/cmd/#"
        commandPrefix = Array("\(prefix)/\(device)/cmd/".utf8)
        replyPrefix = "\(prefix)/\(device)/reply/"
        telemetry = TopicBuilder(prefix: "\(prefix)/\(device)/telemetry/")
        events = TopicBuilder(prefix: "\(prefix)/\(device)/events/")
    }

    func reply(_ command: String) -> String { replyPrefix + (command.isEmpty ? "unknown" : command) }

    /// `<prefix>/<device>/telemetry/<name>`, valid until the next call.
    func telemetry(sensorName name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { telemetry.topic(name) }

    /// `<prefix>/<device>/events/<name>`, valid until the next call.
    func events(lineName name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { events.topic(name) }
}

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
