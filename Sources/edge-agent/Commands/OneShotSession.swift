import Agent
import ArgumentParser
import MQTT
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// Connects and drives the client until `done` says so or `timeout` passes. Connection errors are
/// printed; with `giveUpOnError` the first one ends the wait.
final class OneShotSession: MQTTClientDelegate {
    let client: MQTTClient
    var lastError: ConnectionError?
    var giveUpOnError = true
    var onMessage: ((PublishView) -> Void)?
    var onDeliver: ((UInt16) -> Void)?
    var onSubscribe: (([SubscribeResult]) -> Void)?
    var onRefuse: ((ReasonCode) -> Void)?
    /// `-V auto` is trying the other version: that lost connection is no error to give up on.
    private var changingVersion = false

    init(_ configuration: ClientConfiguration) throws {
        do { client = try MQTTClient(configuration: configuration) } catch { throw ValidationError("\(error)") }
        client.delegate = self
    }

    /// Runs until `done()` or timeout (seconds, nil for none). Returns false on timeout or error.
    func run(timeout: Double?, until done: () -> Bool) -> Bool {
        client.start()
        let deadline = timeout.map { MonotonicClock.now() + UInt64($0 * 1e9) }
        while !done() {
            if giveUpOnError, lastError != nil { return false }
            if let deadline, MonotonicClock.now() >= deadline { return false }
            client.runOnce(maxWait: 200_000_000)
        }
        return true
    }

    func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds) {
        if changingVersion {
            changingVersion = false
            return
        }
        lastError = error
        printError("\(broker): \(error)" + (giveUpOnError ? "" : "; retrying in \(retryIn / 1_000_000) ms"))
    }
    func mqttClient(_ client: MQTTClient, didReceive message: PublishView) { onMessage?(message) }
    func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) { onDeliver?(packetID) }
    func mqttClient(_ client: MQTTClient, didSubscribe packetID: UInt16, results: [SubscribeResult]) { onSubscribe?(results) }
    func mqttClient(_ client: MQTTClient, warning: SessionWarning) { printError("\(warning)") }
    func mqttClient(_ client: MQTTClient, willSpeak version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError) {
        printError("\(broker): \(error); trying MQTT \(version)")
        changingVersion = true
    }
    func mqttClient(_ client: MQTTClient, didRefuse packetID: UInt16, message: PublishView, reason: ReasonCode, reasonString: String?) {
        printError(
            "the broker refused the message on \(message.topicString): \(reason)\(reasonString.map { ": \($0.debugDescription)" } ?? "")")
        onRefuse?(reason)
    }
    func mqttClient(_ client: MQTTClient, redirectedTo broker: BrokerAddress, by reason: BrokerReason) {
        printError("the broker sends this client to \(broker) (\(reason))")
    }
}
