/// A set of MQTT packet identifiers as a fixed 8 KiB bitmap: O(1), no allocation after init.
/// The bitmap is plain memory (an array paid a uniqueness check on every change), released by
/// the owner with `deallocate()`, as a struct has no deinit.
struct PacketIDSet {
    private let words: UnsafeMutablePointer<UInt64>
    private(set) var count = 0

    init() {
        words = .allocate(capacity: PacketIDSet.wordCount)
        words.initialize(repeating: 0, count: PacketIDSet.wordCount)
    }

    func deallocate() { words.deallocate() }

    private static let wordCount = 65_536 / 64

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
        words.update(repeating: 0, count: PacketIDSet.wordCount)
        count = 0
    }
}
