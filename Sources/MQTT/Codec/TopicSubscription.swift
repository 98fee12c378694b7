public struct TopicSubscription: Equatable, Sendable {
    public var filter: String
    public var qos: QoS
    public init(_ filter: String, qos: QoS = .atLeastOnce) {
        self.filter = filter
        self.qos = qos
    }
}
