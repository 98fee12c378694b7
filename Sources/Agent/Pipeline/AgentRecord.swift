/// The agent's spool record, the one owner of its layout:
/// `[name length, bit 7 set for GPIO events][name][JSON payload]`.
/// Spool files are outside input (a disk can rot, a file can be replaced), so decoding checks
/// every length and returns nil for anything that is not such a record.
public struct AgentRecord {
    /// The name length has seven bits; configuration names are shorter still (`TopicLevel.maxBytes`).
    public static let maxNameBytes = 127

    public let name: UnsafeRawBufferPointer
    public let event: Bool
    public let json: UnsafeRawBufferPointer

    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return nil }
        let nameLength = Int(first & 0x7F)
        guard nameLength > 0, bytes.count > 1 + nameLength else { return nil }
        name = UnsafeRawBufferPointer(rebasing: bytes[1..<(1 + nameLength)])
        event = first & 0x80 != 0
        json = UnsafeRawBufferPointer(rebasing: bytes[(1 + nameLength)...])
    }

    /// A record `writeHeader` has just written, its JSON from `jsonStart`: its parts without the
    /// checks `init?` makes of records read back from a disk.
    init(written bytes: UnsafeRawBufferPointer, jsonStart: Int) {
        name = UnsafeRawBufferPointer(rebasing: bytes[1..<jsonStart])
        event = bytes[0] & 0x80 != 0
        json = UnsafeRawBufferPointer(rebasing: bytes[jsonStart...])
    }

    /// The `seq` the agent writes first in every record's JSON (`{"seq":N,...`), if there is one.
    public var seq: UInt64? {
        let prefix = #"{"seq":"#.utf8
        guard json.count > prefix.count, json.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        var value: UInt64 = 0
        var digits = 0
        for byte in json.dropFirst(prefix.count) {
            guard byte >= 0x30 && byte <= 0x39 else { break }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(byte - 0x30))
            guard !o1 && !o2 else { return nil }
            value = sum
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// Writes the header (length byte and name); the JSON follows. A name over `maxNameBytes` is
    /// refused by the configuration before it gets here; it is cut, never allowed to spill into
    /// the event bit.
    static func writeHeader(name: UnsafeRawBufferPointer, event: Bool, into json: inout JSONWriter) {
        let count = min(name.count, maxNameBytes)
        json.rawByte(UInt8(count) | (event ? 0x80 : 0))
        json.rawBytes(UnsafeRawBufferPointer(rebasing: name[0..<count]))
    }

    /// A whole record, for tests and tools.
    public static func encode(name: String, event: Bool, json text: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        defer { writer.deallocate() }
        var name = name
        name.withUTF8 { writeHeader(name: UnsafeRawBufferPointer($0), event: event, into: &writer) }
        var text = text
        text.withUTF8 { writer.rawBytes(UnsafeRawBufferPointer($0)) }
        return Array(writer.view)
    }
}
