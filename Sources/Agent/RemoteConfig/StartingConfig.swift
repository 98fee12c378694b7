/// The configuration a start runs on: the local file, the confirmed pushed one (`current`), or a
/// new one on trial. The choice is made before anything else starts, so a configuration that a
/// kill interrupted half-way is settled here: the files are only ever whole (ConfigStore), and a
/// trial that was already rolled back, that no longer passes the checks, or that the agent has
/// started on too often without confirming it, gives way to the last known good.
public struct StartingConfig {
    public var config: AgentConfig
    let running: RunningConfig

    /// Starts on a trial at most this many times before the last known good comes back: a
    /// configuration that crashes the agent on start is rolled back by the restarts it causes.
    static let maxTrialStarts = 5
}

/// What runs, for `config-get`, `status` and the confirmation.
struct RunningConfig {
    enum Source: String {
        case local, pushed, trial
    }

    let source: Source
    let text: String
    let version: UInt64
    /// The pushed configuration (`current` or `trial`) that runs, nil for the local file.
    let stored: StoredConfig?
    let localText: String
    let localPath: String?

    static func local(_ text: String, version: UInt64, path: String?) -> RunningConfig {
        RunningConfig(source: .local, text: text, version: version, stored: nil, localText: text, localPath: path)
    }
}

extension AgentConfig {
    /// The configuration `run` starts on, given its `--config` file.
    public static func starting(path: String) throws(ConfigError) -> StartingConfig {
        let local = try AgentConfig.load(path: path)
        let localText = readFile(path) ?? ""
        let fallback = StartingConfig(config: local, running: .local(localText, version: local.configVersion, path: path))
        guard local.remoteConfig.enabled else { return fallback }
        let store: ConfigStore
        do { store = try ConfigStore(dir: local.remoteConfig.dir) } catch {
            Log.error("\(error): pushed configurations cannot be kept; running \(path)")
            return fallback
        }
        var state = RemoteConfigState.read(from: store)
        let base = ConfigSignature.digest(Array(localText.utf8))
        func started(_ source: RunningConfig.Source, _ stored: StoredConfig, _ config: AgentConfig) -> StartingConfig {
            StartingConfig(
                config: config,
                running: RunningConfig(
                    source: source, text: stored.text, version: stored.version, stored: stored, localText: localText,
                    localPath: path))
        }
        func loaded(_ stored: StoredConfig, _ label: String) -> Result<AgentConfig, ConfigError> {
            do throws(ConfigError) {
                return .success(try ConfigPush.load(stored.text, label: label, localText: localText, localPath: path))
            } catch {
                return .failure(error)
            }
        }
        if let bytes = store.read("trial") {
            if let trial = StoredConfig.parse(bytes) {
                if trial.base != base {
                    Log.notice(
                        "\(path) was changed on the board since config_version \(trial.version) was pushed: it runs, and the pushed one is set aside"
                    )
                    store.setAside("trial")
                } else if trial.version <= state.floor {
                    // Rolled back, and killed before the file went: the state already says so.
                    do { try store.remove("trial") } catch { Log.error("\(error)") }
                } else if trial.starts >= StartingConfig.maxTrialStarts {
                    state.rollBack(trial, because: "the agent started on it \(trial.starts) times without confirming it", in: store)
                } else {
                    switch loaded(trial, "trial") {
                    case .success(let config):
                        CrashPoint.restarted.reached()
                        var counted = trial
                        counted.starts += 1
                        // A stored time later than now: the board rebooted, and the window starts again.
                        if ConfigStore.bootTime() < counted.appliedAt { counted.appliedAt = ConfigStore.bootTime() }
                        do { try store.write("trial", counted.serialized()) } catch { Log.error("\(error)") }
                        Log.notice(
                            "starting on pushed config_version \(trial.version) (\(trial.origin)), not yet confirmed: start \(counted.starts)"
                        )
                        return started(.trial, counted, config)
                    case .failure(let error):
                        state.rollBack(trial, because: "it no longer passes the checks: \(error)", in: store)
                    }
                }
            } else {
                Log.error("\(store.path("trial")) is damaged (its text does not match its digest): set aside")
                store.setAside("trial")
            }
        }
        if let bytes = store.read("current") {
            guard let current = StoredConfig.parse(bytes) else {
                Log.error("\(store.path("current")) is damaged (its text does not match its digest): set aside; running \(path)")
                store.setAside("current")
                return fallback
            }
            guard current.base == base else {
                Log.notice(
                    "\(path) was changed on the board since config_version \(current.version) was pushed: it runs, and the pushed one is set aside"
                )
                store.setAside("current")
                return fallback
            }
            switch loaded(current, "current") {
            case .success(let config):
                return started(.pushed, current, config)
            case .failure(let error):
                Log.error("pushed config_version \(current.version) no longer passes the checks (\(error)): set aside; running \(path)")
                store.setAside("current")
            }
        }
        return fallback
    }
}

extension RemoteConfigState {
    /// The state in `store`; a fresh one when there is none, or when it is damaged (set aside).
    static func read(from store: ConfigStore) -> RemoteConfigState {
        guard let bytes = store.read("state") else { return RemoteConfigState() }
        if let state = RemoteConfigState.parse(bytes) { return state }
        Log.warning("\(store.path("state")) is damaged: set aside, and the counts start again")
        store.setAside("state")
        return RemoteConfigState()
    }

    /// Gives `trial` up for the last known good: the state first (its floor keeps the version from
    /// coming back, its report says why), then the file. A kill between the two leaves a trial at
    /// or under the floor, which the next start removes.
    mutating func rollBack(_ trial: StoredConfig, because reason: String, in store: ConfigStore) {
        Log.warning("rolling back pushed config_version \(trial.version) (\(trial.origin)): \(reason)")
        floor = max(floor, trial.version)
        rolledBack += 1
        lastRollback = "config_version \(trial.version): \(reason)"
        report = Report(outcome: "rolled_back", version: trial.version, requestID: trial.requestID, reason: reason)
        do { try store.write("state", serialized()) } catch { Log.error("\(error): the rollback is not recorded") }
        do { try store.remove("trial") } catch { Log.error("\(error)") }
    }
}
