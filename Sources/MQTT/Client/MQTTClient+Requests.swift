import Syscalls

/// What the client's user asks of it: messages to publish, subscriptions to keep.
extension MQTTClient {
    @discardableResult
    public func publish(
        topic: String, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        properties: MessageProperties = .none, now: Nanoseconds = MonotonicClock.now()
    ) throws(PublishRefusal) -> UInt16 {
        reported(try session.publish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties, now: now))
    }

    /// Publishes on a topic checked once, when it was made (the hot path).
    @discardableResult
    public func publish(
        topic: ValidatedTopic, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        now: Nanoseconds = MonotonicClock.now()
    ) throws(PublishRefusal) -> UInt16 {
        reported(try session.publish(topic: topic, payload: payload, qos: qos, retain: retain, now: now))
    }

    /// Publishes with the topic as raw UTF-8 bytes (no String needed on the hot path).
    @discardableResult
    public func publish(
        topicBytes: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        properties: MessageProperties = .none, now: Nanoseconds = MonotonicClock.now()
    ) throws(PublishRefusal) -> UInt16 {
        reported(try session.publish(topic: topicBytes, payload: payload, qos: qos, retain: retain, properties: properties, now: now))
    }

    /// Passes on what the session noticed while publishing (a broker's limit, once a connection).
    @inline(__always)
    func reported(_ id: UInt16) -> UInt16 {
        if !session.pendingWarnings.isEmpty { for warning in session.takeWarnings() { delegate?.mqttClient(self, warning: warning) } }
        return id
    }

    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: QoS, retain: Bool = false) throws(PublishRefusal) -> UInt16 {
        let result = payload.withUnsafeBytes { raw -> Result<UInt16, PublishRefusal> in
            do throws(PublishRefusal) { return .success(try publish(topic: topic, payload: raw, qos: qos, retain: retain)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The subscriptions kept across reconnects, in the order every connect's SUBSCRIBE carries them.
    public var subscribedFilters: [TopicSubscription] { subscriptions }

    /// Adds subscriptions, kept across reconnects. Sent now if connected.
    public func subscribe(_ new: [TopicSubscription]) throws(PublishRefusal) {
        for s in new { if let problem = Topic.validateFilter(s.filter) { throw .invalid(problem) } }
        subscriptions.append(contentsOf: new)
        if isConnected { _ = try session.subscribe(new, now: MonotonicClock.now()) }
    }
}
