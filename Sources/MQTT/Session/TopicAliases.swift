#if canImport(Glibc)
import Glibc
#endif

/// Topic aliases this client assigns on one connection (5.0 section 3.3.2.3.4): the first time a
/// topic goes out it carries its name and a new alias, afterwards the alias alone. Fixed memory,
/// allocated once: `capacity` entries of at most `stride` topic bytes each; a longer topic, or one
/// once the table is full, goes with its name. The table starts empty on every connection, as the
/// broker's does (MQTT-3.3.2-7).
struct TopicAliases {
    static let stride = 128

    let capacity: Int
    private(set) var count = 0
    /// How many the broker takes on this connection: its Topic Alias Maximum.
    private var limit = 0
    private let hashes: UnsafeMutablePointer<UInt64>
    private let lengths: UnsafeMutablePointer<Int>
    private let names: UnsafeMutableRawBufferPointer

    init(capacity: Int) {
        self.capacity = capacity
        hashes = .allocate(capacity: max(capacity, 1))
        lengths = .allocate(capacity: max(capacity, 1))
        names = .allocate(byteCount: max(capacity, 1) * TopicAliases.stride, alignment: 8)
    }

    func deallocate() {
        hashes.deallocate()
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
        guard limit > 0, topic.count <= TopicAliases.stride else { return (0, false) }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 // FNV-1a
        for byte in topic { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var k = 0
        while k < count {
            if hashes[k] == hash && lengths[k] == topic.count
                && memcmp(names.baseAddress! + k * TopicAliases.stride, topic.baseAddress!, topic.count) == 0
            {
                return (UInt16(k + 1), false)
            }
            k += 1
        }
        guard count < limit, !topic.isEmpty else { return (0, false) }
        hashes[count] = hash
        lengths[count] = topic.count
        (names.baseAddress! + count * TopicAliases.stride).copyMemory(from: topic.baseAddress!, byteCount: topic.count)
        count += 1
        return (UInt16(count), true)
    }
}
