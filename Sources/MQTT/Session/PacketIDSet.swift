/// A set of MQTT packet identifiers as a fixed 8 KiB bitmap: O(1), no allocation after init.
struct PacketIDSet {
    private var words: [UInt64] = Array(repeating: 0, count: 65_536 / 64)
    private(set) var count = 0

    func contains(_ id: UInt16) -> Bool {
        words[Int(id) >> 6] & (1 << (UInt64(id) & 63)) != 0
    }

    /// Returns false if it was already present.
    @discardableResult
    mutating func insert(_ id: UInt16) -> Bool {
        let bit: UInt64 = 1 << (UInt64(id) & 63)
        if words[Int(id) >> 6] & bit != 0 { return false }
        words[Int(id) >> 6] |= bit
        count += 1
        return true
    }

    @discardableResult
    mutating func remove(_ id: UInt16) -> Bool {
        let bit: UInt64 = 1 << (UInt64(id) & 63)
        if words[Int(id) >> 6] & bit == 0 { return false }
        words[Int(id) >> 6] &= ~bit
        count -= 1
        return true
    }

    mutating func removeAll() {
        guard count > 0 else { return }
        for i in words.indices { words[i] = 0 }
        count = 0
    }
}
