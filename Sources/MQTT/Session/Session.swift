import Syscalls

/// The MQTT client session, 3.1.1 or 5.0, as a state machine with no I/O: feed it received bytes,
/// requests and the time; it writes the bytes to send into `outbound` and reports events. Every
/// protocol rule lives here, so every rule is a plain unit test and a fuzz target. Incoming packets
/// are handled in Session+Receive.swift.
public final class MQTTSession {
    public enum State: Equatable, Sendable {
        case disconnected
        case awaitingConnack
        case connected
    }

    public let configuration: SessionConfiguration
    /// Bytes to write to the network, in order. The driver drains it with `moveReaderIndex`.
    public let outbound = WireBuffer(capacity: 16 * 1024)
    public internal(set) var state: State = .disconnected
    /// The protocol of the current (or next) connection: the configuration's, unless the driver
    /// chose another for this broker (`connectionOpened(now:version:)`).
    public private(set) var version: ProtocolVersion
    /// What the broker allows on this connection (5.0 CONNACK), reset by each connection.
    public internal(set) var limits: BrokerLimits

    var window: InflightWindow
    var aliases: TopicAliases
    /// QoS 2 messages received and answered with PUBREC, until PUBREL (section 4.3.3, method B).
    var awaitingRelease = PacketIDSet()
    private var nextControlID: UInt16 = 0xC000
    var connectStartedAt: Nanoseconds = 0
    var lastSentAt: Nanoseconds = 0
    var lastReceivedAt: Nanoseconds = 0
    var pingSentAt: Nanoseconds?
    /// Bytes of an oversized PUBLISH still to be skipped.
    var skipping = 0
    /// SUBSCRIBE and UNSUBSCRIBE packets not yet answered: packet id to the number of filters.
    var pendingSubscribes: [UInt16: Int] = [:]
    var pendingUnsubscribes: Set<UInt16> = []
    /// Warnings about the broker's limits, said once per connection.
    var warnedRetain = false
    var warnedQoS = false

    public init(configuration: SessionConfiguration) {
        self.configuration = configuration
        self.version = configuration.connect.version
        self.limits = BrokerLimits(configuration)
        self.window = InflightWindow(capacity: configuration.maxInflight, arenaBytes: configuration.inflightArenaBytes)
        self.aliases = TopicAliases(capacity: configuration.maxTopicAliases)
    }

    deinit {
        window.deallocate()
        aliases.deallocate()
        awaitingRelease.deallocate()
    }

    /// Outgoing QoS 1/2 messages not yet acknowledged.
    public var inflightCount: Int { window.pending }
    public var canPublishReliably: Bool { !window.isFull }

    /// The size of a QoS 1 PUBLISH if it is over the broker's packet limit, else nil.
    public func overPacketLimit(topicLength: Int, payloadLength: Int, properties: MessageProperties = .none) -> Int? {
        guard let limit = limits.maxPacketSize else { return nil }
        do throws(PacketError) {
            let size = try PacketEncoder.publishSize(
                topicLength: topicLength, payloadLength: payloadLength, qos: .atLeastOnce,
                propertiesLength: version == .v5 ? properties.block.count : nil)
            return size > limit ? size : nil
        } catch { return Int.max } // over MQTT's own limit
    }

    /// The size of the PUBLISH stored for a message in flight.
    public func storedSize(of id: UInt16) -> Int? { window.bytes(of: id)?.count }

    /// The oldest message not yet acknowledged, if it went out: a reconnect sends it first.
    public var oldestUnacknowledged: UInt16? { window.oldestSent }

    /// Gives up a message the broker will never take (it closes the connection on it): its slot is
    /// freed as if acknowledged, without a `.delivered` event; `body` gets the message first.
    /// False if `id` is not in flight.
    @discardableResult
    public func abandon(_ id: UInt16, _ body: (PublishView) -> Void) -> Bool {
        guard let stored = window.stored(id) else { return false }
        do throws(PacketError) {
            if case .publish(let view)? = try PacketDecoder.decode(stored.bytes, version: stored.v5 ? .v5 : .v311)?.packet { body(view) }
        } catch { assertionFailure("the window holds only PUBLISH packets this session encoded: \(error)") }
        return window.abandon(id)
    }

    // MARK: Connection lifecycle

    /// The transport is open: discard stale bytes and write CONNECT, in `version` if given (the
    /// driver falls back to 3.1.1 for a broker that refuses 5.0). Messages waiting in the window
    /// keep the layout of the version they were queued under; a connection in the other version
    /// gets them re-encoded as they go (`sendWaiting`).
    public func connectionOpened(now: Nanoseconds, version: ProtocolVersion? = nil) throws(PacketError) {
        outbound.clear()
        self.version = version ?? configuration.connect.version
        var connect = configuration.connect
        connect.version = self.version
        try PacketEncoder.connect(connect, into: outbound)
        state = .awaitingConnack
        limits = BrokerLimits(configuration)
        aliases.reset(brokerMaximum: 0)
        warnedRetain = false
        warnedQoS = false
        connectStartedAt = now
        lastSentAt = now
        lastReceivedAt = now
        pingSentAt = nil
    }

    /// The transport closed, for whatever reason. Unacknowledged messages stay for the next connection.
    public func connectionClosed() {
        state = .disconnected
        outbound.clear()
        pingSentAt = nil
        skipping = 0
        window.connectionClosed()
        pendingSubscribes.removeAll()
        pendingUnsubscribes.removeAll()
    }

    /// Writes DISCONNECT (section 3.14): the broker then discards the will.
    public func disconnect() {
        guard state != .disconnected else { return }
        PacketEncoder.empty(.disconnect, into: outbound)
        state = .disconnected
    }

    // MARK: Requests

    /// Queues a message. QoS 0 is written at once if connected. QoS 1/2 take a slot in the in-flight
    /// window and are written at once if connected (and the broker's Receive Maximum allows), else
    /// when they may. Returns the packet id (0 for QoS 0).
    @discardableResult
    public func publish(
        topic: String, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        properties: MessageProperties = .none, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        var topic = topic
        // withUTF8 rethrows untyped; carry the typed error out through a Result (no boxing).
        let result = topic.withUTF8 { utf8 -> Result<UInt16, PublishRefusal> in
            do throws(PublishRefusal) {
                return .success(
                    try publish(
                        topic: UnsafeRawBufferPointer(utf8), payload: payload, qos: qos,
                        retain: retain, properties: properties, now: now))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func publish(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool = false,
        properties: MessageProperties = .none, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        if let problem = Topic.validateName(topic) { throw .invalid(problem) }
        return try publish(validName: topic, payload: payload, qos: qos, retain: retain, properties: properties, now: now)
    }

    /// Publishes on a topic name the caller checked (ValidatedTopic.swift).
    func publish(
        validName topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool,
        properties: MessageProperties, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        guard version == .v5 else {
            return try publish(validName: topic, payload: payload, qos: qos, retain: retain, block: nil, aliasable: false, now: now)
        }
        // withUnsafeBytes rethrows untyped; carry the typed error out through a Result (no boxing).
        return try properties.block.withUnsafeBytes { block -> Result<UInt16, PublishRefusal> in
            do throws(PublishRefusal) {
                return .success(
                    try publish(
                        validName: topic, payload: payload, qos: qos, retain: retain, block: block, aliasable: properties.aliasable,
                        now: now))
            } catch { return .failure(error) }
        }.get()
    }

    /// The publish itself: `block` is the 5.0 property block, nil under 3.1.1.
    func publish(
        validName topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos requested: QoS, retain requestedRetain: Bool,
        block: UnsafeRawBufferPointer?, aliasable: Bool, now: Nanoseconds
    ) throws(PublishRefusal) -> UInt16 {
        var qos = requested
        var retain = requestedRetain
        if block != nil {
            qos = limited(requested)
            retain = requestedRetain && retainAllowed()
        }
        let size: Int
        do throws(PacketError) {
            size = try PacketEncoder.publishSize(
                topicLength: topic.count, payloadLength: payload.count, qos: qos, propertiesLength: block?.count)
        } catch { throw .invalid(error) }
        if let limit = limits.maxPacketSize, size > limit { throw .tooLarge(size: size, limit: limit) }
        let alias = aliasable && block != nil && limits.topicAliasMaximum > 0
        if qos == .atMostOnce {
            guard state == .connected else { throw .notConnected }
            writeLive(topic: topic, payload: payload, qos: qos, retain: retain, packetID: 0, size: size, block: block, alias: alias)
            lastSentAt = now
            return 0
        }
        guard let (id, stored, slot) = window.reserve(length: size, qos: qos, v5: block != nil) else { throw .windowFull }
        // Encoded into the window for re-sending (with the topic's name: aliases end with the
        // connection), and into the outbound buffer if it may go now.
        _ = PacketEncoder.publish(
            validTopic: topic, payload: payload, qos: qos, retain: retain, dup: false, packetID: id, properties: block, alias: 0,
            at: stored.baseAddress!)
        if state == .connected && window.onWire < limits.sendQuota {
            window.markSent(index: slot)
            lastSentAt = now
            if alias {
                writeLive(topic: topic, payload: payload, qos: qos, retain: retain, packetID: id, size: size, block: block, alias: true)
            } else {
                outbound.writeBytes(UnsafeRawBufferPointer(stored))
            }
        } // else sent after CONNACK, or when the broker's quota allows
        return id
    }

    /// The PUBLISH as it goes on this connection: with a Topic Alias in place of the name, once the
    /// alias is known to the broker, when `alias` allows one.
    private func writeLive(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, qos: QoS, retain: Bool, packetID: UInt16, size: Int,
        block: UnsafeRawBufferPointer?, alias: Bool
    ) {
        var name = topic
        var number: UInt16 = 0
        if alias {
            let assigned = aliases.alias(for: topic)
            number = assigned.alias
            if number != 0 && !assigned.isNew { name = UnsafeRawBufferPointer(start: topic.baseAddress, count: 0) }
        }
        let tail = outbound.writableTail(minimum: size + 3)
        let written = PacketEncoder.publish(
            validTopic: name, payload: payload, qos: qos, retain: retain, dup: false, packetID: packetID, properties: block,
            alias: number, at: tail.baseAddress!)
        outbound.didWrite(written)
    }

    /// The QoS the broker takes (5.0 Maximum QoS).
    private func limited(_ qos: QoS) -> QoS {
        guard qos.rawValue > limits.maximumQoS.rawValue else { return qos }
        if !warnedQoS { warnedQoS = true; pendingWarnings.append(.maximumQoS1) }
        return limits.maximumQoS
    }

    private func retainAllowed() -> Bool {
        guard !limits.retainAvailable else { return true }
        if !warnedRetain { warnedRetain = true; pendingWarnings.append(.retainUnavailable) }
        return false
    }

    /// Warnings found while publishing, reported at the next `receive` or `tick` (a publish has no
    /// event handler).
    var pendingWarnings: [SessionWarning] = []

    /// Takes the warnings found while publishing.
    public func takeWarnings() -> [SessionWarning] {
        defer { pendingWarnings.removeAll() }
        return pendingWarnings
    }

    /// Writes SUBSCRIBE; returns its packet id. The result comes as `.subscribed`.
    public func subscribe(_ subscriptions: [TopicSubscription], now: Nanoseconds) throws(PublishRefusal) -> UInt16 {
        guard state == .connected else { throw .notConnected }
        let id = takeControlID()
        do throws(PacketError) { try PacketEncoder.subscribe(packetID: id, subscriptions, version: version, into: outbound) } catch {
            throw .invalid(error)
        }
        pendingSubscribes[id] = subscriptions.count
        lastSentAt = now
        return id
    }

    public func unsubscribe(_ filters: [String], now: Nanoseconds) throws(PublishRefusal) -> UInt16 {
        guard state == .connected else { throw .notConnected }
        let id = takeControlID()
        do throws(PacketError) { try PacketEncoder.unsubscribe(packetID: id, filters, version: version, into: outbound) } catch {
            throw .invalid(error)
        }
        pendingUnsubscribes.insert(id)
        lastSentAt = now
        return id
    }

    /// Forgets every unacknowledged message (a user who asked for a clean start).
    public func discardInflight() {
        window.removeAll()
        awaitingRelease.removeAll()
    }

    private func takeControlID() -> UInt16 {
        // SUBSCRIBE/UNSUBSCRIBE ids come from the top of the range and skip publish ids in flight and
        // control ids still pending. Publish ids come from the bottom and skip only what the window
        // holds, so the two ranges keep them apart in practice (a window of 49,152 would be needed).
        var id = nextControlID
        while window.contains(id) || id == 0 || pendingSubscribes[id] != nil || pendingUnsubscribes.contains(id) { id = id &+ 1 }
        nextControlID = id &+ 1
        return id
    }
}
