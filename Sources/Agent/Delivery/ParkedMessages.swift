#if canImport(Glibc)
import Glibc
#endif

/// Messages the broker will never take, kept for a person to look at instead of being retried
/// forever or deleted: one over the broker's packet limit, or one after which the broker closed
/// the connection three times in a row (MQTT's PoisonWatch). Each is a line of
/// `<spool dir>/parked`: `{"parked_at":<ms>,"reason":"…","topic":"…","bytes":N,"payload":…}`, the
/// payload as sent when it is a JSON value, else a JSON string. The file stops growing at
/// `maxFileBytes`; past it messages are only counted. The count is in the metrics (`parked`).
struct ParkedMessages {
    static let maxFileBytes = 16 * 1024 * 1024

    let path: String
    private(set) var count: UInt64 = 0

    init(directory: String) { path = directory + "/parked" }

    /// Parks one message; returns a problem writing it, if there was one.
    mutating func park(topic: String, payload: UnsafeRawBufferPointer, reason: String, now: Int64) -> String? {
        count += 1
        var line = JSONWriter(capacity: 256 + payload.count + topic.utf8.count * 2)
        defer { line.deallocate() }
        line.beginObject()
        line.key("parked_at"); line.integer(now)
        line.key("reason"); line.string(reason)
        line.key("topic"); line.string(topic)
        line.key("bytes"); line.integer(UInt64(payload.count))
        line.key("payload")
        do {
            _ = try JSONParser.parse(Array(payload)) // the agent's own readings are JSON
            line.raw(payload)
        } catch {
            line.string(String(decoding: payload, as: UTF8.self))
        }
        line.endObject()
        line.rawByte(UInt8(ascii: "\n"))
        var size = stat()
        if stat(path, &size) == 0 && Int64(size.st_size) + Int64(line.view.count) > Int64(ParkedMessages.maxFileBytes) {
            return "\(path) has reached \(ParkedMessages.maxFileBytes >> 20) MiB; the message is counted, not kept"
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return "open \(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        let view = line.view
        guard write(fd, view.baseAddress, view.count) == view.count else { return "write \(path): \(String(cString: strerror(errno)))" }
        return nil
    }
}
