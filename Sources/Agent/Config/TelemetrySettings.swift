/// `telemetry:`: what readings carry besides their values.
public struct TelemetrySettings: Decodable, Equatable, Sendable {
    /// MQTT 5.0's Message Expiry Interval on every reading: the broker discards a reading no
    /// subscriber took within it (a reading useless after a while). Counted from when the agent
    /// sends it, backfilled readings included; nil: none.
    public var expiry: ConfigDuration?

    enum CodingKeys: String, CodingKey { case expiry }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        expiry = try c.decodeIfPresent(ConfigDuration.self, forKey: .expiry)
        if let expiry, expiry.nanoseconds < 1_000_000_000 {
            throw c.invalid(.expiry, "must be at least 1s (MQTT counts the interval in whole seconds)")
        }
    }

    /// The interval in seconds, as the property carries it.
    var expirySeconds: UInt32? { expiry.map { UInt32($0.nanoseconds / 1_000_000_000) } }
}
