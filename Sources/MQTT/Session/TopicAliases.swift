/// Topic aliases this client assigns on one connection (5.0 section 3.3.2.3.4): the first time a
/// topic goes out it carries its name and a new alias, afterwards the alias alone. Fixed memory,
/// allocated once: `capacity` entries of at most `stride` topic bytes each; a longer topic, or one
/// once the table is full, goes with its name. The table starts empty on every connection, as the
/// broker's does (MQTT-3.3.2-7). A lookup compares lengths, then words: a device has a few dozen
/// topics, and hashing each name on each publish cost more than the comparisons.
struct TopicAliases {
    static let stride = 128

    let capacity: Int
    private(set) var count = 0
    /// How many the broker takes on this connection: its Topic Alias Maximum.
    private var limit = 0
    private let lengths: UnsafeMutablePointer<Int>
    private let names: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        self.capacity = capacity
        lengths = .allocate(capacity: max(capacity, 1))
        names = .allocate(byteCount: max(capacity, 1) * TopicAliases.stride, alignment: 8)
    }

    func deallocate() {
        lengths.deallocate()
        names.deallocate()
    }

    /// A new connection, whose broker takes `brokerMaximum` aliases.
    mutating func reset(brokerMaximum: UInt16) {
        count = 0
        limit = min(capacity, Int(brokerMaximum))
    }

    /// The alias for `topic`, and whether it is new (the packet must then carry the name as well);
    /// alias 0 for none.
    mutating func alias(for topic: UnsafeRawBufferPointer) -> (alias: UInt16, isNew: Bool) {
        guard limit > 0, topic.count <= TopicAliases.stride, !topic.isEmpty else { return (0, false) }
        var k = 0
        while k < count {
            if lengths[k] == topic.count && TopicAliases.equal(names.baseAddress! + k * TopicAliases.stride, topic) {
                return (UInt16(k + 1), false)
            }
            k += 1
        }
        guard count < limit else { return (0, false) }
        lengths[count] = topic.count
        (names.baseAddress! + count * TopicAliases.stride).copyMemory(from: topic.baseAddress!, byteCount: topic.count)
        count += 1
        return (UInt16(count), true)
    }

    /// Whether `stored` holds `topic`'s bytes: eight at a time, then the rest.
    @inline(__always)
    private static func equal(_ stored: UnsafeRawPointer, _ topic: UnsafeRawBufferPointer) -> Bool {
        let base = topic.baseAddress!
        var i = 0
        while i + 8 <= topic.count {
            if stored.loadUnaligned(fromByteOffset: i, as: UInt64.self) != base.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < topic.count {
            if stored.load(fromByteOffset: i, as: UInt8.self) != base.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }
}
