/// One SUBACK code per requested filter (section 3.9.3): the granted QoS, or a refusal. 3.1.1 has
/// one refusal, 0x80 (`.failure`); 5.0 says why (`.refused`).
public enum SubscribeResult: Equatable, Sendable {
    case granted(QoS)
    case failure
    case refused(ReasonCode)

    public var isFailure: Bool {
        if case .granted = self { return false }
        return true
    }

    /// For logs: what the broker granted, or why it refused.
    public var explanation: String {
        switch self {
        case .granted(let qos): "granted QoS \(qos.rawValue)"
        case .failure: "refused"
        case .refused(let reason): "refused: \(reason)"
        }
    }
}
