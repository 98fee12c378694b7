#if canImport(Glibc)
import Syscalls
import Glibc
#endif

/// What the client reports. Every method has an empty default.
public protocol MQTTClientDelegate: AnyObject {
    func mqttClient(_ client: MQTTClient, didConnectTo broker: BrokerAddress, sessionPresent: Bool)
    func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds)
    /// The view is valid only during the call.
    func mqttClient(_ client: MQTTClient, didReceive message: PublishView)
    /// A message over the session's `maxIncomingPacketSize`: acknowledged and skipped. The topic is
    /// valid only during the call.
    func mqttClient(_ client: MQTTClient, didSkipOversized message: PublishHead)
    func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16)
    func mqttClient(_ client: MQTTClient, didSubscribe packetID: UInt16, results: [SubscribeResult])
    func mqttClient(_ client: MQTTClient, warning: SessionWarning)
    /// The broker closed the connection three times in a row right after this message, which was
    /// given up so that the others can go (PoisonWatch). Valid only during the call.
    func mqttClient(_ client: MQTTClient, didGiveUp packetID: UInt16, message: PublishView)
    /// Another client is using this client id: the broker has closed `takeovers` working
    /// connections within `ClashWatch.window`, each time accepting the next connect at once. Said
    /// once per episode, at the connect that made it certain; the client backs off meanwhile.
    func mqttClient(_ client: MQTTClient, clientIDInUse clientID: String, takeovers: Int)
}
