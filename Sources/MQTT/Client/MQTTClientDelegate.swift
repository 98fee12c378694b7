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
    /// A 5.0 broker refused a message for good (PUBACK or PUBREC with a failure reason, or over
    /// its Maximum Packet Size); the view is valid only during the call.
    func mqttClient(_ client: MQTTClient, didRefuse packetID: UInt16, message: PublishView, reason: ReasonCode, reasonString: String?)
    /// A 5.0 broker refused a message for a reason that passes; it is sent again after a pause.
    func mqttClient(_ client: MQTTClient, willRetry packetID: UInt16, reason: ReasonCode, retry: Int)
    /// `mqtt.version: auto` chose another protocol for this broker (VersionNegotiation).
    func mqttClient(_ client: MQTTClient, willSpeak version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError)
    /// A 5.0 broker named another server to use (reason 0x9C or 0x9D with a Server Reference).
    func mqttClient(_ client: MQTTClient, redirectedTo broker: BrokerAddress, by reason: BrokerReason)
}

public extension MQTTClientDelegate {
    func mqttClient(_ client: MQTTClient, didConnectTo broker: BrokerAddress, sessionPresent: Bool) {}
    func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds) {}
    func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {}
    func mqttClient(_ client: MQTTClient, didSkipOversized message: PublishHead) {}
    func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) {}
    func mqttClient(_ client: MQTTClient, didSubscribe packetID: UInt16, results: [SubscribeResult]) {}
    func mqttClient(_ client: MQTTClient, warning: SessionWarning) {}
    func mqttClient(_ client: MQTTClient, didGiveUp packetID: UInt16, message: PublishView) {}
    func mqttClient(_ client: MQTTClient, clientIDInUse clientID: String, takeovers: Int) {}
    func mqttClient(_ client: MQTTClient, didRefuse packetID: UInt16, message: PublishView, reason: ReasonCode, reasonString: String?) {}
    func mqttClient(_ client: MQTTClient, willRetry packetID: UInt16, reason: ReasonCode, retry: Int) {}
    func mqttClient(_ client: MQTTClient, willSpeak version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError) {}
    func mqttClient(_ client: MQTTClient, redirectedTo broker: BrokerAddress, by reason: BrokerReason) {}
}
