import MQTT

extension BrokerLimits {
    /// Where the packet limit in force comes from, in the words of the messages that cite it
    /// (parked messages, replies over the limit).
    var name: String { maxPacketSizeFromBroker ? "the broker's Maximum Packet Size" : "mqtt.max_packet_size" }
}
