/// Which protocol to speak to each broker, under `mqtt.version: auto`: 5.0 first, 3.1.1 for a broker
/// that refuses it. A refusal that names the version (3.1.1's return code 1, 5.0's reason 0x84) is
/// certain; a broker that closes the connection on a 5.0 CONNECT without a CONNACK (one too old to
/// know 5.0 may) is only likely, so that fallback is tentative: if 3.1.1 is closed on as well, the
/// close was about something else and the broker is asked in 5.0 again. What was learnt holds until
/// the process restarts. No I/O.
public struct VersionNegotiation: Sendable {
    public let preferred: ProtocolVersion
    /// False when the version is fixed (`mqtt.version: 5` or `3.1.1`).
    public let fallsBack: Bool

    /// Brokers (by index) to speak 3.1.1 to, and which of them only on the evidence of a close.
    private var fellBack: Set<Int> = []
    private var tentative: Set<Int> = []

    public init(preferred: ProtocolVersion, fallsBack: Bool) {
        self.preferred = preferred
        self.fallsBack = fallsBack && preferred == .v5
    }

    public func version(for broker: Int) -> ProtocolVersion { fellBack.contains(broker) ? .v311 : preferred }

    /// A connect to `broker` in `version` ended before CONNACK; `closedAfterConnect` when the broker
    /// closed it after CONNECT went out. Returns the version to use from now on, when it changes.
    public mutating func connectFailed(broker: Int, version: ProtocolVersion, error: ConnectionError, closedAfterConnect: Bool)
        -> ProtocolVersion?
    {
        guard fallsBack else { return nil }
        switch (version, error) {
        case (.v5, .session(.refused(.unacceptableProtocolVersion))):
            fellBack.insert(broker)
            tentative.remove(broker)
            return .v311
        case (.v5, .session(.rejected(let reason))) where reason.code == .unsupportedProtocolVersion:
            fellBack.insert(broker)
            tentative.remove(broker)
            return .v311
        case (.v5, _) where closedAfterConnect:
            fellBack.insert(broker)
            tentative.insert(broker)
            return .v311
        case (.v311, _) where closedAfterConnect && tentative.contains(broker):
            fellBack.remove(broker)
            tentative.remove(broker)
            return .v5
        default:
            return nil
        }
    }

    /// The broker accepted a connect in `version`: a tentative fallback is now known to be right.
    public mutating func connected(broker: Int, version: ProtocolVersion) {
        if version == .v311 { tentative.remove(broker) }
    }
}
