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
///
/// `Agent` is the wiring. It builds the components from the configuration, runs the loop, and
/// passes events between them; each component owns its state and is entered through its folder:
///
/// - `Sampler` (Devices/): sensors and GPIO lines, their deadlines and timers, what commands do to them;
/// - `Recorder` (Pipeline/): a reading or event into a numbered record, on to states and delivery;
/// - `Delivery` (Delivery/): the spool, live and backlog publishing, acknowledgements, parking, status;
/// - `StatePublisher` (HomeAssistant/): retained state topics and Home Assistant discovery;
/// - `CommandRunner` (Commands/): requests, their replies, the command table;
/// - `MetricsReport` (Metrics/): the metrics message from the figures the others keep;
/// - `RemoteConfig` (RemoteConfig/): pushed configurations, their trial, confirmation and rollback;
/// - `ProcessControl` (Runtime/): signals, systemd, reload.
///
/// The client is the one thing most of them use; each is handed it at construction. The loop's
/// jobs (LoopJob.swift) are each one component's, dispatched in AgentLoopJobs.swift.
public final class Agent: MQTTClientDelegate {
    let config: AgentConfig
    let client: MQTTClient
    let loop: EventLoop
    /// The broker socket the loop watches, -1 for none.
    var watchedFD: Int32 = -1
    let process: ProcessControl
    let delivery: Delivery
    let recorder: Recorder
    let sampler: Sampler
    let states: StatePublisher
    let commands: CommandRunner
    let metrics: MetricsReport
    let remote: RemoteConfig
    /// Conditions logged once per episode, shared by the components that report them.
    let repeated = RepeatedLog()

    /// The agent on the configuration `AgentConfig.starting` chose.
    public convenience init(starting: StartingConfig, configPath: String) throws {
        try self.init(config: starting.config, configPath: configPath, running: starting.running)
    }

    /// The agent on `config`, as the local file (tests, tools).
    public convenience init(config: AgentConfig, configPath: String? = nil) throws {
        let text = configPath.flatMap(readFile) ?? ""
        try self.init(config: config, configPath: configPath, running: .local(text, version: config.configVersion, path: configPath))
    }

    init(config: AgentConfig, configPath: String?, running: RunningConfig) throws {
        let startedAt = MonotonicClock.now()
        self.config = config
        let topics = Topics(
            prefix: config.mqtt.topicPrefix, device: config.deviceID, userProperties: config.mqtt.userProperties,
            telemetryExpiry: config.telemetry.expirySeconds)
        let (spool, spoolExisted, spoolSetAside) = try Delivery.openSpool(config.spool, device: config.deviceID)
        var clientConfig = try Agent.clientConfiguration(config, topics: topics)
        clientConfig.subscriptions = [TopicSubscription(topics.commandFilter, qos: .atLeastOnce)] + StatePublisher.filters(config)
        // Requests over the command limit are still taken (and answered); over this, the session
        // skips their bytes instead of holding them (MQTTSession.receive). A whole configuration
        // (config-set, the group's) is the largest request.
        clientConfig.session.maxIncomingPacketSize = CommandRunner.maxConfigRequestBytes + 4096
        if let groupTopic = RemoteConfig.groupTopic(config) {
            clientConfig.subscriptions.append(TopicSubscription(groupTopic, qos: .atLeastOnce))
        }
        client = try MQTTClient(configuration: clientConfig)
        loop = try EventLoop()
        process = try ProcessControl(configPath: configPath, startedAt: startedAt)
        let board = try Board.load(config.board, configPath: configPath)
        let devices = Devices(config: config, board: board, now: MonotonicClock.now())
        states = StatePublisher(config: config, topics: topics, devices: devices, client: client, repeated: repeated)
        let recovery = SequenceStore.Recovery(
            spoolExisted: spoolExisted,
            keptInSpool: { SequenceStore.nextNumbers(in: spool) },
            wallClock: SequenceStore.plausibleWallClock())
        let sequences = SequenceStore(
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
        delivery = Delivery(
            client: client, spool: spool, topics: topics,
            settings: Delivery.Settings(
                spill: config.spool.mode == .spill, syncInterval: config.spool.syncInterval.nanoseconds, inflight: config.mqtt.inflight,
                batch: config.backfill.batch, rate: config.backfill.rate, packetLimit: config.mqtt.maxPacketSize.bytes,
                linger: config.mqtt.linger.nanoseconds),
            parkIn: config.spool.dir, repeated: repeated, startedAt: startedAt)
        delivery.setAsideSpool = spoolSetAside
        recorder = Recorder(sequences: sequences, clock: config.clockCheck ? ClockSync() : nil, delivery: delivery, states: states)
        sampler = Sampler(devices: devices, recorder: recorder, topics: topics)
        commands = CommandRunner(client: client, topics: topics, repeated: repeated)
        metrics = MetricsReport(
            topic: topics.metrics, properties: topics.json, interval: config.metricsInterval.nanoseconds, now: MonotonicClock.now())
        remote = RemoteConfig(config: config, running: running, client: client, topics: topics)
        client.delegate = self
    }

    /// The Maximum Packet Size this agent announces (5.0).
    static let announcedPacketSize: UInt32 = 1 << 20

    static func clientConfiguration(_ config: AgentConfig, topics: Topics) throws -> ClientConfiguration {
        var password: [UInt8]?
        if let file = config.mqtt.passwordFile {
            guard let text = readFile(file) else { throw AgentError.config("cannot read mqtt.password_file \(file)") }
            password = Array((text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").utf8)
        } else if let name = config.mqtt.passwordEnv {
            guard let value = getenv(name) else { throw AgentError.config("environment variable \(name) (mqtt.password_env) is not set") }
            password = Array(String(cString: value).utf8)
        }
        var will = Will(topic: topics.status, payload: Array(#"{"state":"offline"}"#.utf8), qos: .atLeastOnce, retain: true)
        will.delay = UInt32(config.mqtt.willDelay.nanoseconds / 1_000_000_000)
        will.contentType = "application/json"
        var session = SessionConfiguration(
            connect: ConnectOptions(
                clientID: config.mqtt.clientID ?? config.deviceID, cleanSession: false,
                keepAlive: UInt16(clamping: config.mqtt.keepAlive.nanoseconds / 1_000_000_000),
                will: will, username: config.mqtt.username, password: password))
        session.connect.version = config.mqtt.version == .v311 ? .v311 : .v5
        session.connect.sessionExpiry = UInt32(config.mqtt.sessionExpiry.nanoseconds / 1_000_000_000)
        // What this agent takes: requests are answered at once, so few wait; a packet up to 1 MiB
        // still reaches it, to be skipped and answered "too large" (MQTTSession.receive) rather
        // than dropped unanswered by the broker.
        session.connect.receiveMaximum = 64
        session.connect.maximumPacketSize = Agent.announcedPacketSize
        session.maxInflight = config.mqtt.inflight
        session.minimumBrokerPacketSize = MQTTSettings.minimumPacketSize
        if config.mqtt.maxPacketSizeGiven {
            session.maxOutgoingPacketSize = config.mqtt.maxPacketSize.bytes
        } else {
            session.assumedOutgoingPacketSize = config.mqtt.maxPacketSize.bytes // until a 5.0 broker states its own
        }
        let brokers = try config.mqtt.brokers.map { url in
            guard let address = BrokerAddress(url: url) else { throw AgentError.config("bad broker URL \(url)") }
            return address
        }
        var client = ClientConfiguration(brokers: brokers, session: session)
        client.versionFallback = config.mqtt.version == .auto
        if config.mqtt.brokerOrder == .spread { client.brokerOrder = .spread(key: session.connect.clientID) }
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
        let devices = sampler.devices
        Log.notice(
            "edge-agent \(AgentVersion.string) starting: device \(config.deviceID)\(config.deviceIDSource.map { " (the board's serial, from \($0))" } ?? "") on \(devices.board.model), \(devices.sensors.count) sensor(s), \(devices.inputs.count + devices.outputs.count) GPIO line(s) (\(devices.board.isSimulated ? "simulated" : LinuxGPIOChip.library)), spool \(config.spool.dir) with \(delivery.waitingCount) reading(s) waiting"
        )
        let signals = process.signals.fd
        loop.watch(signals, events: UInt32(EPOLLIN.rawValue))
        for fd in sampler.eventDescriptors { loop.watch(fd, events: UInt32(EPOLLIN.rawValue)) }
        client.start()
        metrics.restart(now: MonotonicClock.now())
        process.systemd.send("READY=1\nSTATUS=connecting to \(client.broker)")
        while !process.stopping {
            // Requests already acknowledged are answered before the re-exec, which would lose them.
            if process.reloadRequested && (commands.isIdle || !client.isConnected) { break }
            let now = MonotonicClock.now()
            for job in LoopJob.inOrder { run(job, now: now) }
            loop.wait(until: earliestDeadline(now: now), now: MonotonicClock.now()) { fd, events in
                if fd == signals {
                    process.handleSignals()
                } else if fd == watchedFD {
                    client.handle(events: Int16(truncatingIfNeeded: events))
                } else {
                    _ = sampler.handleGPIOEvents(fd: fd, now: MonotonicClock.now())
                }
            }
        }
        let reloading = process.reloadRequested
        shutDown(reloading: reloading)
        if reloading { process.reexec() }
        return 0
    }

    // MARK: Shutdown

    private func shutDown(reloading: Bool = false) {
        process.systemd.send(reloading ? "RELOADING=1" : "STOPPING=1")
        if !reloading { sampler.setOutputsToSafeState() }
        if client.isConnected {
            if !reloading { delivery.publishStatus(online: false) }
            // Give the broker up to two seconds to take the offline status and pending readings.
            let deadline = MonotonicClock.now() + 2_000_000_000
            while client.isConnected && (client.session.inflightCount > 0 || !delivery.sendPendingStatus())
                && MonotonicClock.now() < deadline
            {
                client.runOnce(maxWait: 100_000_000)
            }
        }
        // An offline status that found no room: leave without DISCONNECT, so the broker publishes
        // the last will ("offline") instead of keeping "online".
        if !reloading && delivery.offlineStatusUnsent { client.dropConnection() }
        client.stop()
        delivery.shutDown()
        recorder.close()
        Log.notice("stopped after \(sampler.readings) reading(s); \(delivery.waitingCount) wait in the spool")
    }

    // MARK: MQTTClientDelegate

    public func mqttClient(_ client: MQTTClient, didConnectTo broker: BrokerAddress, sessionPresent: Bool) {
        Log.notice("connected to \(broker) in MQTT \(client.version)\(sessionPresent ? " (session resumed)" : "")")
        process.systemd.send("STATUS=connected to \(broker); \(delivery.waitingCount) reading(s) to send")
        if states.republishForConnect() { metrics.sendSoon() }
        delivery.connected() // "online" first, then live
    }

    public func mqttClient(_ client: MQTTClient, didLoseConnectionTo broker: BrokerAddress, error: ConnectionError, retryIn: Nanoseconds) {
        Log.warning("\(broker): \(error); retrying in \(retryIn / 1_000_000) ms")
        process.systemd.send("STATUS=offline (\(error)); buffering to the spool")
        delivery.connectionLost()
    }

    public func mqttClient(_ client: MQTTClient, clientIDInUse clientID: String, takeovers: Int) {
        let evidence =
            client.version == .v5
            ? "the broker ended this agent's connection with reason 0x8E, session taken over"
            : "the broker closed this agent's working connection \(takeovers) times in \(ClashWatch().window / 1_000_000_000) s, each time taking the next connect at once (MQTT 3.1.1 cannot say why)"
        Log.warning(
            "another client is using client id \(clientID): \(evidence); two boards with one device_id (a cloned card?) or a second agent; backing off, nothing is parked for it"
        )
    }

    public func mqttClient(
        _ client: MQTTClient, didRefuse packetID: UInt16, message: PublishView, reason: ReasonCode, reasonString: String?
    ) {
        delivery.refused(
            packetID: packetID, topic: message.topicString, payload: message.payload, reason: reason, reasonString: reasonString)
    }

    public func mqttClient(_ client: MQTTClient, willRetry packetID: UInt16, reason: ReasonCode, retry: Int) {
        delivery.refusalRetries += 1
        repeated.note(
            "broker refusals that pass (\(reason.name))", "the broker refused a message for now (\(reason)); it goes again after a pause")
    }

    public func mqttClient(
        _ client: MQTTClient, willSpeak version: ProtocolVersion, to broker: BrokerAddress, because error: ConnectionError
    ) {
        Log.notice(
            version == .v311
                ? "\(broker) does not take MQTT 5.0 (\(error)): speaking 3.1.1 to it until restart (mqtt.version: auto)"
                : "\(broker) closed 3.1.1 too (\(error)): the close was not about the version; trying 5.0 again")
    }

    public func mqttClient(_ client: MQTTClient, redirectedTo broker: BrokerAddress, by reason: BrokerReason) {
        Log.notice("the broker sends this agent to \(broker) (\(reason)); back to mqtt.brokers if that fails")
    }

    public func mqttClient(_ client: MQTTClient, didReceive message: PublishView) {
        if remote.accepts(topic: message.topic) {
            remote.receiveGroup(message.payload)
            if remote.wantsRestart { process.requestReexec() }
            return
        }
        guard commands.accepts(topic: message.topic) else {
            if states.receive(topic: message.topic, payload: message.payload) { metrics.sendSoon() }
            return
        }
        commands.receive(
            topic: message.topic, payload: message.payload, size: message.payload.count, packetID: message.packetID, dup: message.dup,
            retained: message.retain, properties: message.properties)
    }

    public func mqttClient(_ client: MQTTClient, didSkipOversized message: PublishHead) {
        // The session took only the head; the reply says how large the request was.
        commands.receive(
            topic: message.topic, payload: UnsafeRawBufferPointer(start: nil, count: 0),
            size: message.packetSize, packetID: message.packetID, dup: message.dup)
    }

    /// Each connect subscribes to every filter in one SUBSCRIBE, so the results are in their order.
    public func mqttClient(_ client: MQTTClient, didSubscribe packetID: UInt16, results: [SubscribeResult]) {
        for (subscription, result) in zip(client.subscribedFilters, results) where result.isFailure {
            repeated.note(
                "subscription refused: \(subscription.filter)",
                "the broker refused the subscription to \(subscription.filter) (\(result.explanation)): the agent gets nothing on it (commands, Home Assistant's status)"
            )
        }
    }

    public func mqttClient(_ client: MQTTClient, didDeliver packetID: UInt16) {
        if packetID == delivery.onlineStatusPacketID {
            delivery.onlineStatusPacketID = nil
            remote.statusDelivered()
        }
        remote.delivered(packetID: packetID)
        delivery.readingDelivered(packetID: packetID)
    }

    public func mqttClient(_ client: MQTTClient, didGiveUp packetID: UInt16, message: PublishView) {
        delivery.gaveUp(packetID: packetID, topic: message.topicString, payload: message.payload)
    }

    public func mqttClient(_ client: MQTTClient, warning: SessionWarning) {
        // A misbehaving broker can send these by the thousand: the first is logged, then a count.
        repeated.note("broker warnings (\(warning.kind))", "\(warning)")
    }
}
