/// Spill mode: copies of the readings published straight from memory that the broker has not yet
/// acknowledged, oldest first. One slot per message the session's window can hold, each with a
/// buffer reserved once, so keeping a copy allocates nothing.
struct UnacknowledgedCopies {
    struct Slot {
        var packetID: UInt16 = 0
        var sentAt: UInt64 = 0
        var pending = false
        var bytes: [UInt8] = []
    }

    private var slots: [Slot]
    private var first = 0
    private(set) var count = 0

    init(capacity: Int) {
        slots = (0..<max(capacity, 1)).map { _ in
            var slot = Slot()
            slot.bytes.reserveCapacity(512)
            return slot
        }
    }

    var isFull: Bool { count == slots.count }
    var isEmpty: Bool { count == 0 }

    mutating func add(packetID: UInt16, sentAt: UInt64, record: UnsafeRawBufferPointer) {
        precondition(!isFull)
        let i = (first + count) % slots.count
        slots[i].packetID = packetID
        slots[i].sentAt = sentAt
        slots[i].pending = true
        slots[i].bytes.removeAll(keepingCapacity: true)
        slots[i].bytes.append(contentsOf: record)
        count += 1
    }

    /// Forgets the copy of `packetID`, if there is one (the broker has it), and says when it was sent.
    mutating func acknowledge(_ packetID: UInt16) -> UInt64? {
        for k in 0..<count {
            let i = (first + k) % slots.count
            if slots[i].pending && slots[i].packetID == packetID {
                slots[i].pending = false
                let sentAt = slots[i].sentAt
                trimFront()
                return sentAt
            }
        }
        return nil
    }

    /// When the oldest copy was published.
    var oldestSentAt: UInt64? { count > 0 ? slots[first].sentAt : nil }

    /// Removes the oldest copy and hands it to `body` (packet id, record bytes).
    mutating func popOldest(_ body: (UInt16, UnsafeRawBufferPointer) -> Void) {
        guard count > 0 else { return }
        slots[first].bytes.withUnsafeBytes { body(slots[first].packetID, $0) }
        slots[first].pending = false
        trimFront()
    }

    private mutating func trimFront() {
        while count > 0 && !slots[first].pending {
            first = (first + 1) % slots.count
            count -= 1
        }
    }
}
