import Sensors
import Spool

public struct SpoolSettings: Decodable, Equatable, Sendable {
    public enum Durability: String, Decodable, Sendable { case always, interval, never }
    /// `write-ahead`: every reading goes to disk first. `spill`: readings are published from memory
    /// and reach the disk only when not acknowledged in time or while offline.
    public enum Mode: String, Decodable, Sendable { case writeAhead = "write-ahead", spill }

    public var dir: String = "/var/lib/edge-agent/spool"
    public var capacity = ByteSize(bytes: 64 << 20)
    public var durability = Durability.interval
    public var syncInterval = ConfigDuration.seconds(1)
    public var mode = Mode.writeAhead

    enum CodingKeys: String, CodingKey { case dir, capacity, durability, syncInterval = "sync_interval", mode }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dir = try c.decodeIfPresent(String.self, forKey: .dir) ?? dir
        capacity = try c.decodeIfPresent(ByteSize.self, forKey: .capacity) ?? capacity
        durability = try c.decodeIfPresent(Durability.self, forKey: .durability) ?? durability
        syncInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .syncInterval) ?? syncInterval
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? mode
        if case .interval = durability, syncInterval.nanoseconds == 0 { throw c.invalid(.syncInterval, "must be more than 0") }
        // The spool's own rule, so `run` never refuses what the check passed.
        if let problem = SpoolConfiguration(capacityBytes: capacity.bytes).problem { throw c.invalid(.capacity, "\(problem)") }
    }
}
