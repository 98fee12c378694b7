import Sensors
import Spool

public struct BackfillSettings: Decodable, Equatable, Sendable {
    /// Buffered readings sent per second after an outage, alongside live ones.
    public var rate: Int = 100
    /// Buffered readings per message while draining (1: one reading per message).
    public var batch: Int = 1

    enum CodingKeys: String, CodingKey { case rate, batch }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rate = try c.decodeIfPresent(Int.self, forKey: .rate) ?? rate
        batch = try c.decodeIfPresent(Int.self, forKey: .batch) ?? batch
        guard (1...100_000).contains(rate), (1...1000).contains(batch) else {
            throw DecodingError.invalid(at: c.codingPath, "rate must be between 1 and 100000 and batch between 1 and 1000")
        }
    }
}
