/// The newest reading (or level) of each sensor and GPIO line, for its retained state topic. A
/// slot takes a copy of every record the agent makes for its name, taken live or during an outage,
/// and never a backfilled one (backfill reads the spool, not here); so what the state topic says
/// is always the newest thing the agent knows. Buffers are reserved once and reused: a reading
/// allocates nothing here.
struct CurrentStates {
    struct Slot {
        let topic: [UInt8]
        var payload: [UInt8]
        var pending: Bool
    }

    /// A state over this is not kept (and a warning says so); no reading comes near it.
    static let maxPayload = 1024

    private(set) var slots: [Slot]
    private(set) var pendingCount = 0

    init(topics: [String]) {
        slots = topics.map { topic in
            var payload: [UInt8] = []
            payload.reserveCapacity(256)
            return Slot(topic: Array(topic.utf8), payload: payload, pending: false)
        }
    }

    /// Takes `json` as slot `index`'s newest state, to be published. False if it is too large.
    @discardableResult
    mutating func update(_ index: Int, _ json: UnsafeRawBufferPointer) -> Bool {
        guard slots.indices.contains(index), json.count <= CurrentStates.maxPayload else { return false }
        slots[index].payload.removeAll(keepingCapacity: true)
        slots[index].payload.append(contentsOf: json)
        markPending(index)
        return true
    }

    /// Every slot that has a state, again: on a connect (the broker may have restarted without its
    /// retained messages) and when Home Assistant restarts.
    mutating func republishAll() {
        for index in slots.indices where !slots[index].payload.isEmpty { markPending(index) }
    }

    mutating func published(_ index: Int) {
        guard slots[index].pending else { return }
        slots[index].pending = false
        pendingCount -= 1
    }

    private mutating func markPending(_ index: Int) {
        guard !slots[index].pending else { return }
        slots[index].pending = true
        pendingCount += 1
    }
}
