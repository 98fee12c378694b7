/// One SUBACK return code per requested filter (section 3.9.3): the granted QoS or 0x80, failure.
public enum SubscribeResult: Equatable, Sendable {
    case granted(QoS)
    case failure
}
