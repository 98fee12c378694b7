/// The rules a pushed configuration (`config-set`, or a group's retained one) passes before it is
/// applied, in an order that gives nothing away to whoever has no key: on at all, size, signature,
/// then what `check-config` checks, then version and target. No I/O beyond what `check-config`
/// reads (the board file, the TLS files the text names).
enum ConfigPush {
    /// The largest configuration text taken.
    static let maxTextBytes = 64 * 1024

    /// The board's own keys: whatever a pushed text says for them, the local file's values are
    /// used (a group's one text serves boards with their own identity and credentials, no pushed
    /// text can turn remote configuration off or trust another key, and none can move the spool
    /// away from the readings waiting in it).
    static let boardOwnedKeys: [[String]] = [
        ["device_id"], ["mqtt", "client_id"], ["mqtt", "username"], ["mqtt", "password_file"], ["mqtt", "password_env"],
        ["mqtt", "tls", "cert_file"], ["mqtt", "tls", "key_file"], ["remote_config"], ["spool", "dir"],
    ]

    /// What the board knows when a configuration arrives.
    struct Board {
        let settings: RemoteConfigSettings
        let key: ConfigSignature.PublicKey?
        let localText: String
        let localPath: String
        let deviceID: String
        let runningVersion: UInt64
        let floor: UInt64
    }

    struct Accepted {
        let config: AgentConfig
        let text: String
    }

    /// `label` names the text in its errors (`config-set:12: sensors.1.driver: …`).
    static func check(text: String, signature: String?, on board: Board, label: String) throws(Refusal) -> Accepted {
        guard board.settings.enabled else {
            throw Refusal("remote configuration is off on this board (remote_config.enabled in \(board.localPath))")
        }
        let bytes = Array(text.utf8)
        guard bytes.count <= maxTextBytes else {
            throw Refusal("the configuration is \(bytes.count) bytes; at most \(maxTextBytes)")
        }
        if let key = board.key {
            guard let signature else { throw Refusal("not signed: this board takes configurations signed with its key only") }
            guard let raw = Base64.decode(signature), raw.count == ConfigSignature.size else {
                throw Refusal("the signature is not \(ConfigSignature.size) bytes of base64")
            }
            guard key.verifies(raw, over: bytes) else {
                throw Refusal("the signature does not match: not signed with this board's key, or the text was changed")
            }
        }
        let config: AgentConfig
        do { config = try load(text, label: label, localText: board.localText, localPath: board.localPath) } catch {
            throw Refusal("\(error)")
        }
        let highest = max(board.runningVersion, board.floor)
        guard config.configVersion > highest else {
            throw Refusal(
                "config_version \(config.configVersion) is not higher than \(highest) (running \(board.runningVersion), highest tried here \(board.floor)): an older configuration is not taken again",
                notNewer: true)
        }
        if let targets = config.configFor,
            !targets.contains(board.deviceID) && !(board.settings.group.map { targets.contains($0) } ?? false)
        {
            throw Refusal("config_for names neither this device (\(board.deviceID)) nor its group")
        }
        return Accepted(config: config, text: text)
    }

    /// A pushed text as the agent runs it: with the board's own keys, through every check of
    /// `check-config`.
    static func load(_ text: String, label: String, localText: String, localPath: String) throws(ConfigError) -> AgentConfig {
        let pushed = try YAMLDecoder.parse(text, file: label)
        let local = try YAMLDecoder.parse(localText, file: localPath)
        return try AgentConfig.load(root: overlay(pushed, from: local), file: label, configPath: localPath)
    }

    /// `pushed` with the board-owned keys taken from `local`: removed from `pushed`, and put in
    /// from `local`, with their section if `pushed` has none, except `tls:` (a certificate only
    /// where the pushed configuration uses TLS at all).
    static func overlay(_ pushed: YAMLNode, from local: YAMLNode) -> YAMLNode {
        var result = pushed
        for path in boardOwnedKeys {
            result = replacing(path[...], in: result, with: lookup(path[...], in: local), createSections: !path.contains("tls"))
        }
        return result
    }

    private static func lookup(_ path: ArraySlice<String>, in node: YAMLNode) -> YAMLNode? {
        guard let key = path.first, case .mapping(let entries) = node.kind, let value = entries.first(where: { $0.key == key })?.value
        else { return nil }
        return path.count == 1 ? value : lookup(path.dropFirst(), in: value)
    }

    private static func replacing(
        _ path: ArraySlice<String>, in node: YAMLNode, with value: YAMLNode?, createSections: Bool
    ) -> YAMLNode {
        guard let key = path.first, case .mapping(var entries) = node.kind else { return node }
        if path.count == 1 {
            entries.removeAll { $0.key == key }
            if let value { entries.append((key, value)) }
        } else if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = replacing(path.dropFirst(), in: entries[i].value, with: value, createSections: createSections)
        } else {
            guard createSections, let value else { return node }
            let section = YAMLNode(.mapping([]), line: value.line)
            entries.append((key, replacing(path.dropFirst(), in: section, with: value, createSections: true)))
        }
        return YAMLNode(.mapping(entries), line: node.line)
    }
}

/// What `edge-agent sign-config` makes: the `config-set` request (and group message) for a text.
public enum ConfigSigning {
    /// `{"config":…,"signature":…}` (with `id` when given), the signature over the text's bytes
    /// exactly. The text must carry a top-level `config_version`: a board takes only a higher one.
    public static func request(text: String, keyFile: String?, id: String?) throws(ConfigSignature.KeyError) -> String {
        guard text.utf8.count <= ConfigPush.maxTextBytes else {
            throw .init(description: "the configuration is \(text.utf8.count) bytes; a board takes at most \(ConfigPush.maxTextBytes)")
        }
        let root: YAMLNode
        do { root = try YAMLDecoder.parse(text, file: "config") } catch { throw .init(description: "\(error)") }
        guard case .mapping(let entries) = root.kind, let version = entries.first(where: { $0.key == "config_version" })?.value,
            case .scalar(let number, _) = version.kind, let value = UInt64(number), value > 0
        else {
            throw .init(description: "the configuration needs a top-level config_version: N, higher than the one the boards run")
        }
        var json = JSONWriter(capacity: text.utf8.count + 256)
        defer { json.deallocate() }
        json.beginObject()
        if let id { json.key("id"); json.string(id) }
        json.key("config"); json.string(text)
        if let keyFile {
            let signature = try ConfigSignature.PrivateKey(file: keyFile).sign(Array(text.utf8))
            json.key("signature"); json.string(Base64.encode(signature))
        }
        json.endObject()
        return String(decoding: json.view, as: UTF8.self)
    }
}
