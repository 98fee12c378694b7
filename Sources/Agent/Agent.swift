import CLinux
import Hardware
import MQTT
import Spool
import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// The daemon: samples sensors on their schedules, writes each reading to the spool, publishes from
/// the spool with QoS 1 and advances the spool's cursor as the broker acknowledges, keeps a retained
/// status with a last will, and shuts down cleanly on SIGTERM/SIGINT.
public final class Agent: MQTTClientDelegate {
    /// Publish-to-PUBACK latency since the last metrics message.
    struct LatencyStats {
        var count: UInt64 = 0
        var total: UInt64 = 0
        var maximum: UInt64 = 0
        mutating func add(_ ns: UInt64) { count += 1; total += ns; maximum = max(maximum, ns) }
    }

    let config: AgentConfig
    let client: MQTTClient
    let spool: Spool
    let loop: EventLoop
    let signals: SignalDescriptor
    let systemd = SystemdNotifier()
    let clock: ClockSync?
    let startedAt = MonotonicClock.now()
    let devices: Devices
    var json = JSONWriter()
    let topics: Topics
    /// Which records went out live, which are in flight, where the cursor may go (DeliveryLedger.swift).
    var ledger: DeliveryLedger
    var backlog: BacklogBatch
    var bucket: TokenBucket
    /// Spill mode's copies of live readings not yet acknowledged.
    var copies: UnacknowledgedCopies
    let sequences: SequenceStore
    var latency = LatencyStats()
    /// Readings the spool refused (SpoolError): published from memory, or dropped.
    var unstored = (published: UInt64(0), dropped: UInt64(0))
    var nextMetricsAt: UInt64 = 0
    var commandInbox = CommandInbox(maxRequestBytes: Agent.maxRequestBytes)
    /// A reply that found no room in the window; sent before any other request runs.
    var heldReply: (topic: String, payload: [UInt8])?
    var commandCounts = CommandCounts()
    var parked: ParkedMessages
    /// Topics the broker refused a single message on, until when (AgentParking.swift).
    var refusedTopics: [String: UInt64] = [:]
    var repeated = RepeatedLog()
    var stopping = false
    var startupPagesReleased = false
    var reloadRequested = false
    var watchedFD: Int32 = -1
    /// The sensors' earliest deadline and each one's, as their job left them (commands that move
    /// a schedule call `sensorScheduleChanged`).
    var sensorsEarliest: Nanoseconds?
    var sensorDeadlines: [Nanoseconds] = []
    /// Acknowledgements came since the spool's cursor last moved (AgentDelivery.swift).
    var cursorMayMove = false
    /// When systemd's watchdog next wants a keep-alive (nil: it does not watch).
    var watchdogDeadline: Nanoseconds?
    /// The file the configuration came from, for reload.
    let configPath: String?
    /// The retained state topics' newest payloads (CurrentStates.swift).
    var states: CurrentStates
    let discovery: HomeAssistantDiscovery?
    /// The next discovery message to publish; `messages.count` once all are out.
    var discoveryNext = 0
    /// Config topics of entities no longer configured, to be cleared.
    var staleConfigs: [String] = []

    public init(config: AgentConfig, configPath: String? = nil) throws {
        self.config = config
        self.configPath = configPath
        topics = Topics(prefix: config.mqtt.topicPrefix, device: config.deviceID)
        var spoolConfig = SpoolConfiguration(capacityBytes: config.spool.capacity.bytes)
        switch config.spool.durability {
        case .always: spoolConfig.durability = .always
        case .interval: spoolConfig.durability = .interval(config.spool.syncInterval.nanoseconds)
        case .never: spoolConfig.durability = .never
        }
        parked = ParkedMessages(directory: config.spool.dir)
        let spoolExisted = access(config.spool.dir + "/cursor", F_OK) == 0
        spool = try Spool(directory: config.spool.dir, configuration: spoolConfig)
        for event in spool.drainEvents() { Log.warning(SpoolWords.describe(event, capacity: config.spool.capacity.bytes)) }
        ledger = DeliveryLedger(window: config.mqtt.inflight, batch: config.backfill.batch)
        backlog = BacklogBatch(batch: config.backfill.batch, packetLimit: config.mqtt.maxPacketSize.bytes)
        bucket = TokenBucket(
            ratePerSecond: config.backfill.rate, capacity: max(config.backfill.batch, config.backfill.rate / 10), now: MonotonicClock.now())
        copies = UnacknowledgedCopies(capacity: config.spool.mode == .spill ? config.mqtt.inflight : 1)
        var clientConfig = try Agent.clientConfiguration(config, topics: topics)
        clientConfig.subscriptions = [TopicSubscription(topics.commandFilter, qos: .atLeastOnce)]
        if config.homeAssistant.discovery {
            clientConfig.subscriptions += HomeAssistantDiscovery.filters(prefix: config.homeAssistant.prefix, deviceID: config.deviceID)
                .map { TopicSubscription($0, qos: .atMostOnce) }
        }
        // Requests over the command limit are still taken (and answered); over this, the session
        // skips their bytes instead of holding them (MQTTSession.receive).
        clientConfig.session.maxIncomingPacketSize = 16 * 1024
        client = try MQTTClient(configuration: clientConfig)
        loop = try EventLoop()
        signals = try SignalDescriptor([SIGTERM, SIGINT, SIGHUP])
        let board = try Board.load(config.board, configPath: configPath)
        devices = Devices(config: config, board: board, now: MonotonicClock.now())
        states = Agent.currentStates(config, topics: topics, devices: devices)
        discovery = Agent.homeAssistantDiscovery(config, topics: topics, devices: devices)
        let spool = spool
        let recovery = SequenceStore.Recovery(
            spoolExisted: spoolExisted,
            keptInSpool: { SequenceStore.nextNumbers(in: spool) },
            wallClock: SequenceStore.plausibleWallClock())
        sequences = SequenceStore(
            directory: config.spool.dir,
            telemetry: devices.sensors.map(\.settings.name)
                + devices.inputs.filter { $0.settings.direction == .counter }.map(\.settings.name),
            events: devices.inputs.filter { $0.settings.direction == .input }.map(\.settings.name) + devices.outputs.map(\.settings.name),
            recovery: recovery, warning: { Log.warning($0) })
        if sequences.previousRunStoppedCleanly == false {
            Log.warning(
                "the previous run did not stop cleanly (a crash, a kill or a power cut): readings it had not yet synced may be lost, as the durability policy (\(config.spool.durability)) allows; each sensor's seq skips ahead to a reserved bound"
            )
        }
        for sensor in devices.sensors { sensor.target.resolve(sequences: sequences, topics: topics) }
        for input in devices.inputs { input.target.resolve(sequences: sequences, topics: topics) }
        for output in devices.outputs { output.target.resolve(sequences: sequences, topics: topics) }
        clock = config.clockCheck ? ClockSync() : nil
        client.delegate = self
        let capacity = config.spool.capacity.bytes
        spool.onEvent = { event in
            switch event {
            case .writingResumed: Log.notice(SpoolWords.describe(event, capacity: capacity))
            default: Log.warning(SpoolWords.describe(event, capacity: capacity))
            }
        }
        spool.sentElsewhere = { [unowned self] seqs in sentCount(in: seqs) }
    }

    static func clientConfiguration(_ config: AgentConfig, topics: Topics) throws -> ClientConfiguration {
        var password: [UInt8]?
        if let file = config.mqtt.passwordFile {
            guard let text = readFile(file) else { throw AgentError.config("cannot read mqtt.password_file \(file)") }
            password = Array((text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").utf8)
        } else if let name = config.mqtt.passwordEnv {
            guard let value = getenv(name) else { throw AgentError.config("environment variable \(name) (mqtt.password_env) is not set") }
            password = Array(String(cString: value).utf8)
        }
        let will = Will(topic: topics.status, payload: Array(#"{"state":"offline"}"#.utf8), qos: .atLeastOnce, retain: true)
        var session = SessionConfiguration(
            connect: ConnectOptions(
                clientID: config.mqtt.clientID ?? config.deviceID, cleanSession: false,
                keepAlive: UInt16(clamping: config.mqtt.keepAlive.nanoseconds / 1_000_000_000),
                will: will, username: config.mqtt.username, password: password))
        session.maxInflight = config.mqtt.inflight
        session.maxOutgoingPacketSize = config.mqtt.maxPacketSize.bytes
        let brokers = try config.mqtt.brokers.map { url in
            guard let address = BrokerAddress(url: url) else { throw AgentError.config("bad broker URL \(url)") }
            return address
        }
        var client = ClientConfiguration(brokers: brokers, session: session)
        client.backoff = ReconnectBackoff(minimum: config.mqtt.reconnectMin.nanoseconds, maximum: config.mqtt.reconnectMax.nanoseconds)
        if let tls = config.mqtt.tls {
            client.tls.caFile = tls.caFile
            client.tls.certificateFile = tls.certFile
            client.tls.keyFile = tls.keyFile
            client.tls.verifyPeer = tls.verify
            client.tls.verifyHostname = tls.verify
            client.tls.serverName = tls.serverName
            client.tls.alpn = tls.alpn
        }
        return client
    }

    // MARK: The loop

    /// Runs until SIGTERM or SIGINT. Returns the process exit code.
    public func run() -> Int32 {
        Log.notice(
            "edge-agent \(AgentVersion.string) starting: device \(config.deviceID) on \(devices.board.model), \(sensors.count) sensor(s), \(devices.inputs.count + devices.outputs.count) GPIO line(s) (\(devices.board.isSimulated ? "simulated" : LinuxGPIOChip.library)), spool \(config.spool.dir) with \(spool.unacknowledgedCount) reading(s) waiting"
        )
        loop.watch(signals.fd, events: UInt32(EPOLLIN.rawValue))
        watchGPIO()
        client.start()
        nextMetricsAt = MonotonicClock.now() + config.metricsInterval.nanoseconds
        systemd.send("READY=1\nSTATUS=connecting to \(client.broker)")
        while !stopping {
            // Requests already acknowledged are answered before the re-exec, which would lose them.
            if reloadRequested && ((commandInbox.isEmpty && heldReply == nil) || !client.isConnected) { break }
            let now = MonotonicClock.now()
            for job in LoopJob.inOrder { run(job, now: now) }
            loop.wait(until: earliestDeadline(now: now), now: MonotonicClock.now()) { fd, events in
                if fd == signals.fd {
                    handleSignals()
                } else if fd == watchedFD {
                    client.handle(events: Int16(truncatingIfNeeded: events))
                } else if let input = gpioInput(fd: fd) {
                    handleGPIOEvents(input, now: MonotonicClock.now())
                }
            }
        }
        shutDown(reloading: reloadRequested)
        if reloadRequested { reexec() }
        return 0
    }

    /// Reload: start this same program again with the same arguments. Every setting takes effect,
    /// brokers included; the spool was synced and its lock goes with the old image (CLOEXEC).
    private func reexec() -> Never {
        Log.notice("reloading the configuration")
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        Log.error("reload failed: execv: \(String(cString: strerror(errno))); exiting so the service manager restarts it")
        exit(1)
    }

    func updateWatchedDescriptor() {
        let request = client.pollRequest
        let fd = request?.fd ?? -1
        if fd != watchedFD {
            if watchedFD >= 0 { loop.forget(watchedFD) }
            watchedFD = fd
        }
        if let request {
            var events: UInt32 = 0
            if request.events & Int16(POLLIN) != 0 { events |= UInt32(EPOLLIN.rawValue) }
            if request.events & Int16(POLLOUT) != 0 { events |= UInt32(EPOLLOUT.rawValue) }
            loop.watch(fd, events: events)
        }
    }

    private func handleSignals() {
        while let signal = signals.next() {
            switch signal {
            case SIGTERM, SIGINT:
                Log.notice("signal \(signal): shutting down")
                stopping = true
            case SIGHUP:
                do { try validateReload(); reloadRequested = true } catch {
                    Log.error("SIGHUP: \(error.message); keeping the running configuration")
                }
            default:
                break
            }
        }
    }

    // MARK: Shutdown

    private func shutDown(reloading: Bool = false) {
        systemd.send(reloading ? "RELOADING=1" : "STOPPING=1")
        if !reloading { setOutputsToSafeState() }
        if client.isConnected {
            if !reloading { publishStatus(online: false) }
            // Give the broker up to two seconds to take the offline status and pending readings.
            let deadline = MonotonicClock.now() + 2_000_000_000
            while client.isConnected && (client.session.inflightCount > 0 || !sendPendingStatus()) && MonotonicClock.now() < deadline {
                client.runOnce(maxWait: 100_000_000)
            }
        }
        // An offline status that found no room: leave without DISCONNECT, so the broker publishes
        // the last will ("offline") instead of keeping "online".
        if !reloading && ledger.pendingStatus == false { client.dropConnection() }
        client.stop()
        if spillMode { spillCopies(while: { _ in true }) } // what the broker did not acknowledge in time waits on disk
        if cursorMayMove { acknowledgeDelivered() }
        do { try spool.sync() } catch { Log.error("\(error)") }
        sequences.close()
        Log.notice("stopped after \(sensors.reduce(0) { $0 + $1.readings }) reading(s); \(spool.unacknowledgedCount) wait in the spool")
    }

    // MARK: MQTTClientDelegate

    public func mqttClient(_ client: MQTTClient, didConnectTo broker: BrokerAddress, sessionPresent: Bool) {
        Log.notice("connected to \(broker)\(sessionPresent ? " (session resumed)" : "")")
        systemd.send("STATUS=connected to \(broker); \(spool.unacknowledgedCount) reading(s) to send")
        ledger.connected(nextSeq: spool.nextSeq) // "online" first, then live
        republishForConnect()
        sendPendingStatus()
    }

    public func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds) {
        Log.warning("\(broker): \(error); retrying in \(retryIn / 1_000_000) ms")
        systemd.send("STATUS=offline (\(error)); buffering to the spool")
        connectionLost()
    }

    public func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {
        guard message.topic.starts(with: topics.commandPrefix) else {
            receiveHomeAssistant(topic: message.topic, payload: message.payload)
            return
        }
        receiveCommand(
            topic: message.topic, payload: message.payload, size: message.payload.count, packetID: message.packetID, dup: message.dup,
            retained: message.retain)
    }

    public func mqttClient(_ client: MQTTClient, didSkipOversized message: PublishHead) {
        // The session took only the head; the reply says how large the request was.
        receiveCommand(
            topic: message.topic, payload: UnsafeRawBufferPointer(start: nil, count: 0),
            size: message.packetSize, packetID: message.packetID, dup: message.dup)
    }

    public func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) {
        readingDelivered(packetID: packetID)
    }

    public func mqttClient(_ client: MQTTClient, didGiveUp packetID: UInt16, message: PublishView) {
        gaveUp(packetID: packetID, topic: message.topicString, payload: message.payload)
    }

    public func mqttClient(_ client: MQTTClient, warning: SessionWarning) {
        // A misbehaving broker can send these by the thousand: the first is logged, then a count.
        repeated.note("broker warnings (\(warning.kind))", "\(warning)")
    }
}
