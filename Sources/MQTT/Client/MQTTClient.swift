#if canImport(Glibc)
import Syscalls
import Glibc
#endif

/// The MQTT client: the sans-I/O session driven over a TCP or TLS transport, with reconnect,
/// backoff and failover. It does not own a loop: it says which descriptor to poll for what
/// (`pollRequest`) and when it next needs the time (`nextDeadline`), so it fits in any event loop;
/// `runOnce` is a small poll(2) loop for tools that have nothing else to wait for.
public final class MQTTClient {
    enum Phase {
        case idle
        case connecting(any Transport, deadline: Nanoseconds, progress: ConnectProgress)
        case open(any Transport)
        case waiting(until: Nanoseconds)
        case stopped
    }

    public let configuration: ClientConfiguration
    public let session: MQTTSession
    /// Must outlive the client: in practice its owner (the agent, a command, a test's recorder).
    /// Unowned, not weak: a weak reference gives its object a side table, and every retain and
    /// release of the agent then takes the slow path (a tenth of the cost of a reading).
    public unowned var delegate: (any MQTTClientDelegate)?

    private var phase: Phase = .idle
    /// The open connection's descriptor, read once when it opened (meaningful only while `.open`):
    /// the loop asks for it on every turn.
    private var openDescriptor: Int32 = -1
    private let tlsContext: TLSContext?
    private let inbound: WireBuffer
    private var rotation: BrokerRotation
    private var backoff: ReconnectBackoff
    private var transportWantsWrite = false
    /// Subscribed again on every connect (MQTTClient+Requests.swift).
    var subscriptions: [TopicSubscription]
    private var poison = PoisonWatch()
    private var clash = ClashWatch()
    private var versions: VersionNegotiation
    /// A server a 5.0 broker named instead of itself (Server Reference): tried next, kept while
    /// connects to it work.
    private var redirect: BrokerAddress?
    private var connectedAt: Nanoseconds = 0
    /// A connection must last this long for the backoff to start again from its minimum: one that
    /// a broker closes at once (a refused message, a policy) would otherwise reconnect at full speed.
    public static let stableConnection: Nanoseconds = 10_000_000_000

    /// Connections that reached CONNACK, and connections lost after that.
    public private(set) var connectCount = 0
    public private(set) var reconnectCount = 0
    /// Connections another client with this client id took over (ClashWatch).
    public var takeoverCount: UInt64 { clash.takeovers }

    public init(configuration: ClientConfiguration) throws(TransportError) {
        precondition(!configuration.brokers.isEmpty, "at least one broker")
        self.configuration = configuration
        self.session = MQTTSession(configuration: configuration.session)
        self.inbound = WireBuffer(capacity: 16 * 1024)
        self.backoff = configuration.backoff
        self.rotation = BrokerRotation(brokerCount: configuration.brokers.count, order: configuration.brokerOrder)
        self.subscriptions = configuration.subscriptions
        self.versions = VersionNegotiation(preferred: configuration.session.connect.version, fallsBack: configuration.versionFallback)
        self.tlsContext = configuration.brokers.contains(where: \.useTLS) ? try TLSContext(configuration.tls) : nil
    }

    public var broker: BrokerAddress { redirect ?? configuration.brokers[rotation.broker] }
    /// The protocol of the current or next connection.
    public var version: ProtocolVersion { session.version }
    public var isConnected: Bool { session.state == .connected }

    // MARK: Lifecycle

    public func start(now: Nanoseconds = MonotonicClock.now()) {
        guard case .idle = phase else { return }
        beginConnect(now: now)
    }

    /// Sends DISCONNECT (so the broker discards the will) and closes. The client stays stopped.
    public func stop() {
        if case .open(let transport) = phase {
            session.disconnect()
            flush() // best effort: one write attempt, the socket is closed right after
            transport.close()
        } else if case .connecting(let transport, _, _) = phase {
            transport.close()
        }
        session.connectionClosed()
        phase = .stopped
    }

    /// Closes the connection abruptly, as a cut cable would (the broker then publishes the will).
    public func dropConnection(now: Nanoseconds = MonotonicClock.now()) {
        connectionLost(.transport(.closedByPeer), now: now)
    }

    // MARK: Driving

    /// The descriptor to poll and for what, or nil when nothing is open.
    public var pollRequest: (fd: Int32, events: Int16)? {
        if case .open = phase { // the usual case, without taking the transport out of the state
            let write = !session.outbound.isEmpty || transportWantsWrite
            return (openDescriptor, Int16(POLLIN) | (write ? Int16(POLLOUT) : 0))
        }
        switch phase {
        case .connecting(let transport, _, let progress):
            guard transport.fileDescriptor >= 0 else { return nil }
            return (transport.fileDescriptor, Int16(progress == .wantWrite ? POLLOUT : POLLIN))
        case .open(let transport):
            let write = !session.outbound.isEmpty || transportWantsWrite
            return (transport.fileDescriptor, Int16(POLLIN) | (write ? Int16(POLLOUT) : 0))
        default:
            return nil
        }
    }

    /// When `tick` must run next.
    public func nextDeadline() -> Nanoseconds? {
        switch phase {
        case .connecting(_, let deadline, _): return deadline
        case .open: return session.nextDeadline()
        case .waiting(let until): return until
        default: return nil
        }
    }

    /// Handles what poll reported for `pollRequest`'s descriptor.
    public func handle(events: Int16, now: Nanoseconds = MonotonicClock.now()) {
        switch phase {
        case .connecting:
            advanceConnect(now: now)
        case .open:
            if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 || transportWantsWrite { readAvailable(now: now) }
            if case .open = phase, events & Int16(POLLOUT) != 0 { flush(now: now) }
        default:
            break
        }
    }

    /// Timers: connect timeout, keep alive, reconnect.
    public func tick(now: Nanoseconds = MonotonicClock.now()) {
        switch phase {
        case .connecting(_, let deadline, _):
            if now >= deadline { connectionLost(.transport(.connectTimeout), now: now) }
        case .open:
            do throws(SessionFailure) { try session.tick(now: now) { event in dispatch(event, now: now) } } catch {
                connectionLost(.session(error), now: now)
            }
        case .waiting(let until):
            if now >= until { beginConnect(now: now) }
        default:
            break
        }
    }

    /// Writes as much of the pending output as the socket takes, in as few syscalls as it takes:
    /// every packet queued since the last flush goes out together.
    public func flush(now: Nanoseconds = MonotonicClock.now()) {
        // Nothing to write, the usual case: decided before the connection's state is looked at
        // (binding the transport out of it costs a retain and a release).
        if session.outbound.isEmpty && !transportWantsWrite { return }
        guard case .open(let transport) = phase else { return }
        transportWantsWrite = false
        let outbound = session.outbound
        while !outbound.isEmpty {
            let status: IOStatus
            do throws(TransportError) { status = try transport.write(outbound.readableView) } catch {
                connectionLost(.transport(error), now: now); return
            }
            switch status {
            case .transferred(let n): outbound.moveReaderIndex(forwardBy: n)
            case .wouldBlock(let wantWrite): transportWantsWrite = wantWrite; return
            case .closed: connectionLost(.transport(.closedByPeer), now: now); return
            }
        }
    }

    /// One turn of a poll(2) loop on this client alone: flush, wait for the socket or the next
    /// deadline (at most `maxWait`), handle what happened.
    public func runOnce(maxWait: Nanoseconds = 1_000_000_000) {
        flush()
        let now = MonotonicClock.now()
        var wait = maxWait
        if let deadline = nextDeadline() { wait = deadline > now ? min(wait, deadline - now) : 0 }
        let timeoutMs = Int32(clamping: (wait + 999_999) / 1_000_000)
        if let request = pollRequest {
            var fd = pollfd(fd: request.fd, events: request.events, revents: 0)
            let ready = poll(&fd, 1, timeoutMs)
            if ready > 0 { handle(events: fd.revents) }
        } else if timeoutMs > 0 {
            var ts = timespec(tv_sec: Int(timeoutMs / 1000), tv_nsec: Int(timeoutMs % 1000) * 1_000_000)
            nanosleep(&ts, nil)
        }
        tick()
    }

    // MARK: Internals

    private func beginConnect(now: Nanoseconds) {
        let broker = self.broker
        let transport: any Transport =
            if broker.useTLS, let tlsContext {
                TLSTransport(host: broker.host, port: broker.port, context: tlsContext, firstAddress: rotation.firstAddress)
            } else {
                TCPTransport(host: broker.host, port: broker.port, firstAddress: rotation.firstAddress)
            }
        phase = .connecting(transport, deadline: now &+ configuration.connectTimeout, progress: .wantWrite)
        advanceConnect(now: now)
    }

    private func advanceConnect(now: Nanoseconds) {
        guard case .connecting(let transport, let deadline, _) = phase else { return }
        let progress: ConnectProgress
        do throws(TransportError) { progress = try transport.advanceConnect() } catch {
            connectionLost(.transport(error), now: now); return
        }
        guard progress == .ready else {
            phase = .connecting(transport, deadline: deadline, progress: progress)
            return
        }
        // The version this broker takes (VersionNegotiation); a server a broker named, the preferred one.
        let version = redirect == nil ? versions.version(for: rotation.broker) : versions.preferred
        do throws(PacketError) { try session.connectionOpened(now: now, version: version) } catch {
            connectionLost(.encoding(error), now: now)
            return
        }
        inbound.clear()
        openDescriptor = transport.fileDescriptor
        phase = .open(transport)
        flush(now: now)
    }

    private func readAvailable(now: Nanoseconds) {
        guard case .open(let transport) = phase else { return }
        // A bounded number of reads per wake-up keeps one chatty broker from starving the loop.
        for _ in 0..<16 {
            let tail = inbound.writableTail(minimum: 4096)
            let status: IOStatus
            do throws(TransportError) { status = try transport.read(into: tail) } catch {
                connectionLost(.transport(error), now: now); return
            }
            switch status {
            case .transferred(let n):
                inbound.didWrite(n)
                guard process(now: now) else { return }
                // A short read drained the socket: no need for a read that only says EAGAIN.
                if n < tail.count && !transport.hasBufferedInput { return }
            case .wouldBlock(let wantWrite):
                if wantWrite { transportWantsWrite = true }
                return
            case .closed:
                connectionLost(.transport(.closedByPeer), now: now)
                return
            }
        }
    }

    /// Feeds the session; false if the connection was lost while doing so.
    private func process(now: Nanoseconds) -> Bool {
        let consumed: Int
        do throws(SessionFailure) {
            consumed = try session.receive(inbound.readableView, now: now) { event in dispatch(event, now: now) }
        } catch {
            connectionLost(.session(error), now: now)
            return false
        }
        guard case .open = phase else { return false }
        inbound.moveReaderIndex(forwardBy: consumed)
        return true
    }

    private func dispatch(_ event: SessionEvent, now: Nanoseconds) {
        switch event {
        case .connected(let sessionPresent):
            connectedAt = now
            if redirect == nil { versions.connected(broker: rotation.broker, version: session.version) }
            connectCount += 1
            // Every connect, resumed session or not: a session the broker kept has the subscriptions
            // of the configuration it was made with, which may not be this one's, and a renewed
            // subscription brings the retained messages again (Home Assistant discovery relies on it).
            if !subscriptions.isEmpty {
                _ = try? session.subscribe(subscriptions, now: now)
            }
            delegate?.mqttClient(self, didConnectTo: broker, sessionPresent: sessionPresent)
            if clash.connected(now: now) {
                delegate?.mqttClient(self, clientIDInUse: configuration.session.connect.clientID, takeovers: clash.recentTakeovers)
            }
        case .message(let view):
            delegate?.mqttClient(self, didReceive: view)
        case .messageTooLarge(let head):
            delegate?.mqttClient(self, didSkipOversized: head)
        case .delivered(let id):
            poison.delivered(id)
            delegate?.mqttClient(self, didDeliver: id)
        case .refused(let id, let reason, let text, let message):
            poison.delivered(id) // answered, if not taken: no poison
            delegate?.mqttClient(self, didRefuse: id, message: message, reason: reason, reasonString: text)
        case .retrying(let id, let reason, let retry):
            delegate?.mqttClient(self, willRetry: id, reason: reason, retry: retry)
        case .subscribed(let id, let results):
            delegate?.mqttClient(self, didSubscribe: id, results: results)
        case .unsubscribed:
            break
        case .warning(let warning):
            delegate?.mqttClient(self, warning: warning)
        }
    }

    private func connectionLost(_ error: ConnectionError, now: Nanoseconds) {
        let wasConnected = session.state == .connected
        // CONNECT went out and the broker closed without a CONNACK: maybe one that does not know 5.0.
        let closedAfterConnect = session.state == .awaitingConnack && PoisonWatch.closedByBroker(error)
        var addresses = (count: 0, tried: 0)
        switch phase {
        case .connecting(let transport, _, _), .open(let transport):
            addresses = (transport.addressCount, transport.addressesTried)
            transport.close()
        case .stopped: return
        default: break
        }
        let reason = MQTTClient.brokerReason(error)
        if wasConnected { closedWhileConnected(error, reason: reason, now: now) }
        let version = session.version
        session.connectionClosed()
        inbound.clear()
        transportWantsWrite = false
        let lostBroker = broker
        let delay: Nanoseconds
        if let reason, let target = reason.redirect.flatMap({ BrokerAddress(serverReference: $0, like: lostBroker) }) {
            redirect = target
            delegate?.mqttClient(self, redirectedTo: target, by: reason)
            delay = backoff.failoverDelay()
        } else if redirect != nil && !wasConnected {
            redirect = nil // the server named failed: back to the list
            delay = backoff.failoverDelay()
        } else if wasConnected {
            reconnectCount += 1
            rotation.connectionLost(attempted: addresses.tried)
            delay = backoff.nextDelay()
        } else if redirect == nil,
            let next = versions.connectFailed(
                broker: rotation.broker, version: version, error: error, closedAfterConnect: closedAfterConnect),
            announce(next, to: lostBroker, because: error)
        {
            // The broker is up and answering: the same one again at once, in 3.1.1. (A failover hop's
            // delay here doubled the fleet test's failover time against RabbitMQ 3.10.)
            delay = 0
        } else {
            clash.connectFailed()
            switch rotation.attemptFailed(attempted: addresses.tried, of: addresses.count) { // failover
            case .nextAddress, .nextBroker:
                delay = backoff.failoverDelay()
            case .roundFailed:
                // A cluster all down: spread the fleet's return. One broker keeps the doubling cap,
                // so that a board is back soon after its broker is (the boot test waits 20 s).
                if configuration.brokers.count > 1 { backoff.widen() }
                delay = backoff.nextDelay()
            }
        }
        phase = .waiting(until: now &+ delay)
        delegate?.mqttClient(self, didLoseConnectionTo: lostBroker, error: error, retryIn: delay)
    }

    /// Tells the delegate of a change of version; true for a fallback to 3.1.1, to be tried at once.
    /// A return to 5.0 (3.1.1 was closed on too) is no news about the broker: it waits as any failed
    /// connect does.
    private func announce(_ version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError) -> Bool {
        delegate?.mqttClient(self, willSpeak: version, to: broker, because: error)
        return version == .v311
    }

    /// A connection that had reached CONNACK ended: a takeover, or a message the broker will not
    /// take, or neither.
    private func closedWhileConnected(_ error: ConnectionError, reason: BrokerReason?, now: Nanoseconds) {
        let connectedFor = now &- connectedAt
        let closedByBroker = PoisonWatch.closedByBroker(error) || reason != nil
        if reason?.code == .sessionTakenOver {
            if clash.takenOver(now: now) {
                delegate?.mqttClient(self, clientIDInUse: configuration.session.connect.clientID, takeovers: clash.recentTakeovers)
            }
        } else {
            clash.connectionClosed(byPeer: closedByBroker, connectedFor: connectedFor, now: now)
        }
        // Two clients with one id would otherwise take the session from each other at full speed.
        if connectedFor >= MQTTClient.stableConnection && !clash.suspected { backoff.reset() }
        // A takeover by a client with this id is no refused message: nothing is given up for it.
        // Nor is a close a 5.0 broker explains (it refuses a message in PUBACK): PoisonWatch
        // watches the closes that come without a word, 3.1.1's only kind.
        guard reason == nil else { return }
        let oldest = session.oldestUnacknowledged
        if let id = poison.connectionClosed(byPeer: closedByBroker && !clash.suspected, connectedFor: connectedFor, oldest: oldest) {
            session.abandon(id) { message in delegate?.mqttClient(self, didGiveUp: id, message: message) }
        }
    }

    /// What a 5.0 broker said when it refused or ended the connection, if it did.
    static func brokerReason(_ error: ConnectionError) -> BrokerReason? {
        switch error {
        case .session(.rejected(let reason)), .session(.disconnectedByBroker(let reason)): reason
        default: nil
        }
    }
}
