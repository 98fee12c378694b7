/// `remote_config:`: whether a configuration may be pushed over MQTT (`config-set`, a group
/// topic), whose signatures it takes, and how long a new one has to prove itself. Off unless the
/// file turns it on: whoever may publish to the command topics could otherwise point the board at
/// their own broker. Always the board's own: a pushed configuration cannot change it.
public struct RemoteConfigSettings: Decodable, Equatable, Sendable {
    public var enabled = false
    /// The Ed25519 public key (PEM) whose signatures are taken.
    public var publicKey: String?
    /// Takes configurations with no signature: only where the broker alone decides who publishes.
    public var allowUnsigned = false
    /// A new configuration is confirmed once the agent has connected with it and the broker took
    /// its status; not confirmed within this, the last known good is restored.
    public var confirmWithin = ConfigDuration.seconds(120)
    /// A group whose retained configuration, on `<prefix>/groups/<group>/config`, the board takes.
    public var group: String?
    /// Where the pushed configurations and their state are kept (the service's state directory).
    public var dir = "/var/lib/edge-agent/config"

    enum CodingKeys: String, CodingKey {
        case enabled, publicKey = "public_key", allowUnsigned = "allow_unsigned", confirmWithin = "confirm_within", group, dir
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? false
        publicKey = try c.decodeIfPresent(String.self, forKey: .publicKey)
        allowUnsigned = try c.decodeIfPresent(Bool.self, forKey: .allowUnsigned) ?? false
        confirmWithin = try c.decodeIfPresent(ConfigDuration.self, forKey: .confirmWithin) ?? confirmWithin
        group = try c.decodeIfPresent(String.self, forKey: .group)
        dir = try c.decodeIfPresent(String.self, forKey: .dir) ?? dir
        if confirmWithin.nanoseconds < 5_000_000_000 || confirmWithin.nanoseconds > 86_400_000_000_000 {
            throw c.invalid(.confirmWithin, "must be between 5s and 1d: long enough to connect, short enough to come back")
        }
        if let group, let problem = TopicLevel.problem(group) { throw c.invalid(.group, "the group \(problem)") }
        if dir.isEmpty || !dir.hasPrefix("/") { throw c.invalid(.dir, "must be an absolute path") }
        if enabled && publicKey == nil && !allowUnsigned {
            throw c.invalid(
                .publicKey,
                "remote_config.enabled takes only configurations signed with a key: give public_key (or allow_unsigned: true, which lets anyone who may publish to the command topics reconfigure the board)"
            )
        }
        if publicKey != nil && allowUnsigned {
            throw c.invalid(.allowUnsigned, "a public_key and allow_unsigned: true contradict each other")
        }
    }
}
