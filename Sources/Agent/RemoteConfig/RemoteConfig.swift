import MQTT
import Syscalls

/// The remote configuration component: `config-get`, `config-set`, the group's retained
/// configuration, and the switch to a new one. Applying writes the new configuration beside the
/// current one as `trial` and re-executes the agent on it (as `reload` does); the trial is
/// confirmed once the agent has connected with it and the broker took its status, or rolled back
/// to the last known good when that has not happened within `remote_config.confirm_within`.
/// Each outcome is reported on `<prefix>/<device>/reply/config-set` with the request's id.
final class RemoteConfig {
    private let settings: RemoteConfigSettings
    private(set) var running: RunningConfig
    private let store: Result<ConfigStore, ConfigStore.Failure>
    private var state: RemoteConfigState
    private let key: Result<ConfigSignature.PublicKey?, ConfigSignature.KeyError>
    private let deviceID: String
    private let client: MQTTClient
    private let topics: Topics
    /// `<prefix>/groups/<group>/config`, when the board is in a group.
    let groupTopic: String?
    /// When the trial that runs is rolled back unless confirmed first.
    private(set) var confirmDeadline: Nanoseconds?
    private var reportPacketID: UInt16?
    private var wantsReexec = false
    private var lastRefusedGroupDigest: String?
    /// Configurations refused since the start (counted in metrics).
    private(set) var refused: UInt64 = 0

    init(config: AgentConfig, running: RunningConfig, client: MQTTClient, topics: Topics) {
        settings = config.remoteConfig
        self.running = running
        deviceID = config.deviceID
        self.client = client
        self.topics = topics
        groupTopic = RemoteConfig.groupTopic(config)
        do throws(ConfigStore.Failure) {
            guard settings.enabled else { throw ConfigStore.Failure(description: "remote configuration is off") }
            store = .success(try ConfigStore(dir: settings.dir))
        } catch { store = .failure(error) }
        state = (try? store.get()).map(RemoteConfigState.read) ?? RemoteConfigState()
        if let path = settings.publicKey {
            do throws(ConfigSignature.KeyError) { key = .success(try ConfigSignature.PublicKey(file: path)) } catch {
                key = .failure(error)
            }
        } else {
            key = .success(nil)
        }
        if running.source == .trial, let trial = running.stored {
            let deadline = trial.appliedAt + settings.confirmWithin.nanoseconds
            let now = ConfigStore.bootTime()
            confirmDeadline = MonotonicClock.now() + (deadline > now ? deadline - now : 0)
            Log.notice(
                "config_version \(trial.version) must connect and publish its status within \(settings.confirmWithin), or \(lastKnownGood) comes back"
            )
        }
    }

    /// `<prefix>/groups/<group>/config` when remote configuration is on and the board is in a group.
    static func groupTopic(_ config: AgentConfig) -> String? {
        guard config.remoteConfig.enabled, let group = config.remoteConfig.group else { return nil }
        return "\(config.mqtt.topicPrefix)/groups/\(group)/config"
    }

    private var lastKnownGood: String {
        (try? store.get())?.read("current") != nil ? "the confirmed pushed configuration" : "the local file"
    }

    // MARK: Commands

    /// `config-get`: what runs, as its text (a configuration holds no secrets: passwords are
    /// refused in it, keys and password files are named, never included), digest and version.
    func get(into result: inout JSONWriter) throws(CommandFailure) {
        guard running.localPath != nil else { throw CommandFailure("started without a configuration file") }
        result.key("source"); result.string(running.source.rawValue)
        result.key("config_version"); result.integer(running.version)
        result.key("digest"); result.string(ConfigSignature.digest(Array(running.text.utf8)))
        result.key("remote_config"); result.literal(settings.enabled ? "true" : "false")
        result.key("text"); result.string(running.text)
    }

    /// `config-set` and the group's configuration: checks `text`, and if it passes, writes it as
    /// the trial and asks for a re-exec. Returns its version.
    func set(text: String, signature: String?, requestID: JSONValue, origin: String) throws(ConfigPush.Refusal) -> UInt64 {
        guard settings.enabled, let localPath = running.localPath else {
            throw .init("remote configuration is off on this board (remote_config.enabled in \(running.localPath ?? "its file"))")
        }
        let store: ConfigStore
        switch self.store {
        case .success(let opened): store = opened
        case .failure(let error): throw .init("\(error)")
        }
        let key: ConfigSignature.PublicKey?
        switch self.key {
        case .success(let loaded): key = loaded
        case .failure(let error): throw .init("remote_config.public_key: \(error)")
        }
        if running.source == .trial {
            throw .init("config_version \(running.version) is still on trial: send again once it is confirmed or rolled back")
        }
        let board = ConfigPush.Board(
            settings: settings, key: key, localText: running.localText, localPath: localPath, deviceID: deviceID,
            runningVersion: running.version, floor: state.floor)
        let accepted = try ConfigPush.check(text: text, signature: signature, on: board, label: origin)
        var id = JSONWriter(capacity: 64)
        defer { id.deallocate() }
        id.value(requestID)
        let trial = StoredConfig(
            version: accepted.config.configVersion, text: text, base: ConfigSignature.digest(Array(running.localText.utf8)),
            requestID: String(decoding: id.view, as: UTF8.self), origin: origin, appliedAt: ConfigStore.bootTime(), starts: 0)
        do { try store.write("trial", trial.serialized(), crashPoint: .trialWritten) } catch { throw .init("not applied: \(error)") }
        CrashPoint.trialRenamed.reached()
        state.applied += 1
        saveState(store)
        wantsReexec = true
        Log.notice(
            "applying pushed config_version \(trial.version) (\(origin)): restarting on it; it must connect within \(settings.confirmWithin)"
        )
        return trial.version
    }

    var confirmWithinSeconds: UInt64 { settings.confirmWithin.nanoseconds / 1_000_000_000 }

    // MARK: The group's configuration

    func accepts(topic: UnsafeRawBufferPointer) -> Bool {
        guard let groupTopic else { return false }
        return topic.elementsEqual(groupTopic.utf8)
    }

    /// A configuration on the group topic, retained: it comes again with every connect, so the
    /// one that runs (or is older) is passed over in silence, and a refused one is logged once.
    func receiveGroup(_ payload: UnsafeRawBufferPointer) {
        guard let groupTopic, running.source != .trial, !payload.isEmpty else { return }
        let digest = ConfigSignature.digest(Array(payload))
        guard digest != lastRefusedGroupDigest else { return }
        do throws(ConfigPush.Refusal) {
            guard payload.count <= CommandRunner.maxConfigRequestBytes else {
                throw .init("the message is \(payload.count) bytes; at most \(CommandRunner.maxConfigRequestBytes)")
            }
            let parsed: JSONValue
            do { parsed = try JSONParser.parse(Array(payload)) } catch { throw .init("\(error)") }
            guard case .object(let fields) = parsed, case .string(let text)? = fields["config"] else {
                throw .init("a group configuration is a JSON object with \"config\" (and \"signature\")")
            }
            if text == running.text { return }
            var signature: String?
            if case .string(let given)? = fields["signature"] { signature = given }
            _ = try set(text: text, signature: signature, requestID: .null, origin: "group \(settings.group ?? "")")
        } catch {
            lastRefusedGroupDigest = digest
            if error.notNewer { Log.debug("\(groupTopic): \(error.message)"); return }
            refused += 1
            Log.warning("the configuration on \(groupTopic) is refused: \(error.message)")
        }
    }

    // MARK: Confirmation, rollback, report

    /// The broker took the status ("online") of this connection: a trial is confirmed.
    func statusDelivered() {
        guard running.source == .trial, let trial = running.stored, case .success(let store) = store else { return }
        CrashPoint.unconfirmed.reached()
        do { try store.move("trial", to: "current") } catch {
            Log.error("\(error): config_version \(trial.version) cannot be confirmed; it will be rolled back")
            return
        }
        CrashPoint.confirming.reached()
        confirmDeadline = nil
        state.confirmed += 1
        state.floor = max(state.floor, trial.version)
        state.report = .init(outcome: "confirmed", version: trial.version, requestID: trial.requestID, reason: "")
        saveState(store)
        running = RunningConfig(
            source: .pushed, text: running.text, version: running.version, stored: trial, localText: running.localText,
            localPath: running.localPath)
        Log.notice("pushed config_version \(trial.version) confirmed: connected to \(client.broker) and the status was taken")
    }

    /// A group configuration was applied: the wiring re-executes the agent.
    var wantsRestart: Bool {
        defer { wantsReexec = false }
        return wantsReexec
    }

    /// The loop job: rolls an unconfirmed trial back when its time is up, and reports an outcome
    /// once the status has gone. True when the agent must re-execute.
    func run(now: Nanoseconds, statusPending: Bool) -> Bool {
        if let deadline = confirmDeadline, now >= deadline, let trial = running.stored, case .success(let store) = store {
            confirmDeadline = nil
            let connected =
                client.isConnected ? "connected, but the broker did not take its status" : "no broker reached (\(client.broker))"
            state.rollBack(trial, because: "not confirmed within \(settings.confirmWithin): \(connected)", in: store)
            wantsReexec = true
        }
        if reportIsReady(statusPending: statusPending) { sendReport() }
        defer { wantsReexec = false }
        return wantsReexec
    }

    func deadline(now: Nanoseconds, statusPending: Bool) -> Nanoseconds? {
        reportIsReady(statusPending: statusPending) ? now : confirmDeadline
    }

    func delivered(packetID: UInt16) {
        guard packetID == reportPacketID, case .success(let store) = store else { return }
        reportPacketID = nil
        state.report = nil
        saveState(store)
    }

    private func reportIsReady(statusPending: Bool) -> Bool {
        state.report != nil && reportPacketID == nil && client.isConnected && !statusPending && client.session.canPublishReliably
    }

    private func sendReport() {
        guard let report = state.report else { return }
        var json = JSONWriter(capacity: 512)
        defer { json.deallocate() }
        var id = JSONValue.null
        if let parsed = try? JSONParser.parse(Array(report.requestID.utf8)) {
            switch parsed {
            case .string, .number: id = parsed
            default: break
            }
        }
        json.beginObject()
        json.key("id"); json.value(id)
        if report.outcome == "confirmed" {
            json.key("ok"); json.literal("true")
            json.key("result"); json.beginObject()
            json.key("config"); json.string("confirmed")
            json.key("config_version"); json.integer(report.version)
            json.endObject()
        } else {
            json.key("ok"); json.literal("false")
            json.key("error")
            json.string(
                "config_version \(report.version) rolled back: \(report.reason); running config_version \(running.version) (\(running.source.rawValue)) again"
            )
            json.key("config"); json.string("rolled_back")
            json.key("config_version"); json.integer(report.version)
        }
        json.endObject()
        do {
            reportPacketID = try client.publish(
                topic: topics.reply("config-set"), payload: json.view, qos: .atLeastOnce, properties: topics.json)
        } catch .windowFull {
            return
        } catch {
            Log.error("the outcome of config_version \(report.version) cannot be reported: \(error)")
            state.report = nil
        }
    }

    private func saveState(_ store: ConfigStore) {
        do { try store.write("state", state.serialized()) } catch { Log.error("\(error): the remote configuration's counts are not saved") }
    }

    // MARK: Figures

    /// The `status` reply's `config` object.
    func writeStatus(into json: inout JSONWriter) {
        json.key("config"); json.beginObject()
        json.key("source"); json.string(running.source.rawValue)
        json.key("config_version"); json.integer(running.version)
        if let deadline = confirmDeadline {
            let now = MonotonicClock.now()
            json.key("confirm_in_s"); json.integer(deadline > now ? (deadline - now) / 1_000_000_000 : 0)
        }
        json.key("rolled_back"); json.integer(state.rolledBack)
        if let last = state.lastRollback { json.key("last_rollback"); json.string(last) }
        json.endObject()
    }

    /// The metrics message's `remote_config` object.
    func writeMetrics(into json: inout JSONWriter) {
        json.key("remote_config"); json.beginObject()
        json.key("config_version"); json.integer(running.version)
        json.key("applied"); json.integer(state.applied)
        json.key("confirmed"); json.integer(state.confirmed)
        json.key("rolled_back"); json.integer(state.rolledBack)
        json.key("refused"); json.integer(refused)
        json.endObject()
    }

    /// Counts a refused `config-set` (the command table answers it).
    func countRefusal() { refused += 1 }
}

extension ConfigPush {
    /// Why a configuration is not taken; `notNewer`: it is not newer than what runs or was tried,
    /// which a retained group configuration is, on every connect after it was applied.
    struct Refusal: Error {
        let message: String
        var notNewer = false

        init(_ message: String, notNewer: Bool = false) {
            self.message = message
            self.notNewer = notNewer
        }
    }
}
