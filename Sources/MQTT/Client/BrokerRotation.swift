/// How a client walks its broker list (`ClientConfiguration.brokerOrder`).
public enum BrokerOrder: Sendable, Equatable {
    /// The list as given: the first broker while it works, the next ones for failover.
    case inOrder
    /// An order of its own for each client, drawn from `key` (the client id): stable across
    /// restarts, and even over a fleet, both for the first choice and for where the clients of a
    /// broker that fails go next. Each host name's addresses start at a place drawn the same way,
    /// so a cluster behind one DNS name is spread too.
    case spread(key: String)
}

/// Which broker, and which of its addresses, the next connect goes to. No I/O.
///
/// Every address of a host name is tried before the next broker: an address that takes the TCP
/// connection but not the MQTT one (a node starting up, a broker refusing) counts as tried, and the
/// next attempt starts at the following address. A connection that worked and dropped is retried
/// at the same address first.
public struct BrokerRotation: Sendable, Equatable {
    /// Broker indices in the order they are tried.
    public let order: [Int]
    private var position = 0
    /// Where the current broker's addresses start, past their seed: moved to the address a
    /// working connection was on.
    private var offset: UInt64 = 0
    /// Addresses of the current broker tried since it was last reached.
    private var tried = 0
    /// Brokers given up on in a row since a connection last worked.
    private var brokersFailed = 0
    /// Spread only: where each broker's addresses start (32 bits, so that sums cannot overflow).
    private let addressSeeds: [UInt64]

    public init(brokerCount: Int, order: BrokerOrder) {
        precondition(brokerCount > 0, "at least one broker")
        switch order {
        case .inOrder:
            self.order = Array(0..<brokerCount)
            addressSeeds = Array(repeating: 0, count: brokerCount)
        case .spread(let key):
            var random = SplitMix64(seed: BrokerRotation.fnv1a(key))
            var indices = Array(0..<brokerCount)
            // Fisher-Yates with the client's own generator: a uniform permutation per client.
            for i in stride(from: brokerCount - 1, to: 0, by: -1) {
                indices.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            self.order = indices
            addressSeeds = (0..<brokerCount).map { _ in random.next() >> 32 }
        }
    }

    /// The broker the next connect goes to (an index into the configured list).
    public var broker: Int { order[position] }

    /// Where the next connect starts among the current broker's addresses: the transport takes it
    /// modulo their count (`TCPTransport.init(host:port:firstAddress:)`).
    public var firstAddress: UInt64 { addressSeeds[broker] + offset + UInt64(tried) }

    /// What a failed connect moved the rotation to.
    public enum Move: Equatable, Sendable {
        /// The same broker's next address.
        case nextAddress
        /// The next broker in the order.
        case nextBroker
        /// The next broker, and every broker has now failed in a row: the whole cluster is down.
        case roundFailed
    }

    /// A connect ended before the broker accepted it, after trying `attempted` of the broker's
    /// `count` addresses (0 of 0 when the name did not resolve): the next address, or the next
    /// broker once every address was tried.
    @discardableResult
    public mutating func attemptFailed(attempted: Int, of count: Int) -> Move {
        tried += max(attempted, 1)
        guard tried >= count else { return .nextAddress }
        nextBroker()
        brokersFailed += 1
        guard brokersFailed >= order.count else { return .nextBroker }
        brokersFailed = 0
        return .roundFailed
    }

    /// A connection the broker had accepted was lost, on the `attempted`th address tried from
    /// `firstAddress`: the next connect starts at that address again.
    public mutating func connectionLost(attempted: Int) {
        offset += UInt64(tried + max(attempted - 1, 0))
        tried = 0
        brokersFailed = 0
    }

    private mutating func nextBroker() {
        position = (position + 1) % order.count
        offset = 0
        tried = 0
    }

    /// FNV-1a, 64 bits: a stable hash of the client id (Swift's own Hasher is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}

/// SplitMix64 (Steele, Lea and Flood): a small generator that a seed fixes, for orders that must
/// be the same at every start.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
