/// `home_assistant:`: MQTT discovery, so the device, its sensors' fields, its GPIO lines and its
/// own health appear in Home Assistant without any YAML there (HomeAssistantDiscovery.swift).
public struct HomeAssistantSettings: Decodable, Equatable, Sendable {
    public var discovery = false
    /// Home Assistant's `discovery_prefix`; its birth message is `<prefix>/status`.
    public var prefix = "homeassistant"

    enum CodingKeys: String, CodingKey { case discovery, prefix }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        discovery = try c.decodeIfPresent(Bool.self, forKey: .discovery) ?? discovery
        prefix = try c.decodeIfPresent(String.self, forKey: .prefix) ?? prefix
        if let problem = TopicLevel.prefixProblem(prefix) { throw c.invalid(.prefix, problem) }
    }
}
