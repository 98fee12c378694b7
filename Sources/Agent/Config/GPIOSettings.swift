import Sensors
import Spool

public struct GPIOSettings: Decodable, Equatable, Sendable {
    public enum Direction: String, Decodable, Sendable { case input, output, counter }
    public enum Edge: String, Decodable, Sendable { case rising, falling, both }
    public enum Bias: String, Decodable, Sendable { case pullUp = "pull-up", pullDown = "pull-down", disabled = "disabled", asIs = "as-is" }

    public var name: String
    /// A header pin (`pin 11`), a BCM name (`GPIO17`) or a line offset, resolved through the board file.
    public var line: String
    public var direction: Direction
    public var edge: Edge
    public var bias: Bias
    public var debounce: ConfigDuration
    public var initial: Bool
    /// The state outputs return to on shutdown.
    public var safeState: Bool?
    /// Whether commands may drive this output.
    public var commandable: Bool
    public var activeLow: Bool
    /// An expander's name from `expanders:`; default: the board's GPIO chip.
    public var chip: String?
    /// Counters: how often the count and frequency are published.
    public var interval: ConfigDuration

    enum CodingKeys: String, CodingKey {
        case name, line, direction, edge, bias, debounce, initial, safeState = "safe_state", commandable, activeLow = "active_low"
        case chip, interval
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        line = try c.decode(String.self, forKey: .line)
        direction = try c.decodeIfPresent(Direction.self, forKey: .direction) ?? .input
        edge = try c.decodeIfPresent(Edge.self, forKey: .edge) ?? .both
        bias = try c.decodeIfPresent(Bias.self, forKey: .bias) ?? .asIs
        debounce = try c.decodeIfPresent(ConfigDuration.self, forKey: .debounce) ?? ConfigDuration(nanoseconds: 0)
        initial = try c.decodeIfPresent(Bool.self, forKey: .initial) ?? false
        safeState = try c.decodeIfPresent(Bool.self, forKey: .safeState)
        commandable = try c.decodeIfPresent(Bool.self, forKey: .commandable) ?? false
        activeLow = try c.decodeIfPresent(Bool.self, forKey: .activeLow) ?? false
        chip = try c.decodeIfPresent(String.self, forKey: .chip)
        interval = try c.decodeIfPresent(ConfigDuration.self, forKey: .interval) ?? ConfigDuration.seconds(60)
        if let problem = TopicLevel.problem(name) { throw c.invalid(.name, "a line name \(problem)") }
        if direction != .counter && c.contains(.interval) {
            throw c.invalid(.interval, "interval applies to counters only")
        }
        if direction != .output && (commandable || safeState != nil || c.contains(.initial)) {
            throw c.invalid(.direction, "initial, safe_state and commandable apply to outputs only")
        }
    }
}
