/// Records read from the spool for the backlog, waiting to go out. With a batch size above 1, the
/// records of one sensor (or line) go in one message, a JSON array in their order; records of
/// different sensors go in different messages, since each has its own topic.
///
/// The buffers are reserved once: staging and sending records allocates nothing.
struct BacklogBatch {
    struct Entry {
        var seq: UInt64
        var start: Int // of the record in `bytes`: [name length | event bit][name][JSON]
        var count: Int
        var sent = false
    }

    /// Largest message built from several records; a group that would be larger goes in several.
    static let maxMessageBytes = 64 * 1024
    /// Room left in a packet for the fixed header, the topic (three levels of at most 64 bytes and
    /// the kind) and the packet id.
    static let packetOverhead = 320

    /// The largest payload of several records here: `maxMessageBytes`, less under a smaller broker
    /// packet limit. A single record larger than that still goes alone (and the broker's limit
    /// decides: the agent parks what is over it). Lowered when the broker refuses a batch.
    private(set) var maxMessageBytes: Int

    /// The broker closed the connection on a message of `bytes` several times (an unknown packet
    /// limit): later batches stay under half of it, so a drain converges instead of feeding the
    /// broker batch after batch it refuses. Returns the new limit if it changed.
    mutating func refused(bytes: Int) -> Int? {
        let lower = max(128, bytes / 2)
        guard lower < maxMessageBytes else { return nil }
        maxMessageBytes = lower
        return lower
    }

    private(set) var entries: [Entry] = []
    private var bytes: [UInt8] = []
    private var payload: [UInt8] = []
    private var unsent = 0

    /// The broker's packet limit, which bounds `maxMessageBytes`; a refusal may lower that further
    /// until the limit changes (a connect to a broker that states another).
    var packetLimit: Int {
        didSet {
            if packetLimit != oldValue { maxMessageBytes = BacklogBatch.messageBytes(under: packetLimit) }
        }
    }

    static func messageBytes(under packetLimit: Int) -> Int {
        min(BacklogBatch.maxMessageBytes, max(128, packetLimit - BacklogBatch.packetOverhead))
    }

    init(batch: Int, packetLimit: Int = .max) {
        self.packetLimit = packetLimit
        maxMessageBytes = BacklogBatch.messageBytes(under: packetLimit)
        entries.reserveCapacity(batch)
        bytes.reserveCapacity(max(16 * 1024, batch * 256))
        payload.reserveCapacity(BacklogBatch.maxMessageBytes + 1024)
    }

    var isEmpty: Bool { unsent == 0 }
    var unsentCount: Int { unsent }

    /// The lowest sequence number staged and not yet sent.
    var lowestUnsent: UInt64? {
        for entry in entries where !entry.sent { return entry.seq }
        return nil
    }

    mutating func reset() {
        entries.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        unsent = 0
    }

    /// Stages one spool record; false (and nothing staged) if it is not an agent record.
    mutating func add(seq: UInt64, record: UnsafeRawBufferPointer) -> Bool {
        guard AgentRecord(record) != nil else { return false }
        entries.append(Entry(seq: seq, start: bytes.count, count: record.count))
        bytes.append(contentsOf: record)
        unsent += 1
        return true
    }

    /// Sends the next message: the first unsent record and the later unsent ones with the same name
    /// and kind. `send` publishes (name, event, payload) and returns whether the client took it;
    /// `taken` then gets each record's sequence number. Returns nil when nothing is left to send.
    mutating func sendNext(
        _ send: (_ name: UnsafeRawBufferPointer, _ event: Bool, _ payload: UnsafeRawBufferPointer) -> Bool,
        taken: (UInt64) -> Void
    ) -> Bool? {
        guard let first = entries.firstIndex(where: { !$0.sent }) else { return nil }
        return bytes.withUnsafeBytes { all -> Bool in
            let head = AgentRecord(
                UnsafeRawBufferPointer(rebasing: all[entries[first].start..<entries[first].start + entries[first].count]))!
            payload.removeAll(keepingCapacity: true)
            var members = 0
            var last = first
            for i in first..<entries.count where !entries[i].sent {
                let record = AgentRecord(UnsafeRawBufferPointer(rebasing: all[entries[i].start..<entries[i].start + entries[i].count]))!
                guard record.event == head.event, record.name.elementsEqual(head.name) else { continue }
                if members > 0 && payload.count + record.json.count + 2 > maxMessageBytes { break }
                payload.append(members == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
                payload.append(contentsOf: record.json)
                members += 1
                last = i
            }
            payload.append(UInt8(ascii: "]"))
            let accepted = payload.withUnsafeBytes { p in
                // One record goes as its own object, several as an array.
                send(head.name, head.event, members == 1 ? UnsafeRawBufferPointer(rebasing: p[1..<(p.count - 1)]) : p)
            }
            guard accepted else { return false }
            for i in first...last where !entries[i].sent {
                let record = AgentRecord(UnsafeRawBufferPointer(rebasing: all[entries[i].start..<entries[i].start + entries[i].count]))!
                guard record.event == head.event, record.name.elementsEqual(head.name) else { continue }
                entries[i].sent = true
                unsent -= 1
                taken(entries[i].seq)
            }
            return true
        }
    }
}
