/// A pushed configuration as kept in `remote_config.dir` (`trial` while it proves itself, `current`
/// once confirmed): a header of `key value` lines, a blank line, and the text exactly as it was
/// signed. The one owner of that format, with no I/O. The file is the agent's own, but a damaged
/// card or a person can change it: anything that does not parse, or whose text does not match its
/// digest, is no configuration (`parse` returns nil) and is set aside, never half-used.
struct StoredConfig: Equatable {
    static let magic = "edge-agent pushed configuration 1"

    var version: UInt64
    var text: String
    /// SHA-256 of the local file it was applied over: a local file changed since (a person on the
    /// board) wins over what was pushed.
    var base: String
    /// The request's `id` as JSON (`null` when it had none), for the report of its outcome.
    var requestID: String
    /// `config-set`, or `group NAME`.
    var origin: String
    /// CLOCK_BOOTTIME when it was applied: the confirmation deadline counts from it.
    var appliedAt: UInt64
    /// Starts of the agent on it while unconfirmed.
    var starts: Int

    var digest: String { ConfigSignature.digest(Array(text.utf8)) }

    func serialized() -> [UInt8] {
        var header = "\(StoredConfig.magic)\nversion \(version)\ndigest \(digest)\nbase \(base)\n"
        header +=
            "id \(StoredConfig.oneLine(requestID))\norigin \(StoredConfig.oneLine(origin))\napplied_at \(appliedAt)\nstarts \(starts)\n\n"
        return Array(header.utf8) + Array(text.utf8)
    }

    static func parse(_ bytes: [UInt8]) -> StoredConfig? {
        guard let (fields, body) = HeaderedFile.split(bytes, magic: magic) else { return nil }
        guard let version = fields["version"].flatMap({ UInt64($0) }), let digest = fields["digest"], let base = fields["base"],
            let id = fields["id"], let origin = fields["origin"], let appliedAt = fields["applied_at"].flatMap({ UInt64($0) }),
            let starts = fields["starts"].flatMap({ Int($0) }), starts >= 0, starts < 1000
        else { return nil }
        let text = String(decoding: body, as: UTF8.self)
        let stored = StoredConfig(
            version: version, text: text, base: base, requestID: id, origin: origin, appliedAt: appliedAt, starts: starts)
        guard Array(text.utf8)[...] == body, stored.digest == digest else { return nil }
        return stored
    }

    /// A value that stays on its header line, and short.
    static func oneLine(_ value: String) -> String {
        String(String(value.map { $0 == "\n" || $0 == "\r" ? " " : $0 }).prefix(400))
    }
}

/// What the board remembers about pushed configurations across restarts (`state` in
/// `remote_config.dir`): the highest version it ever tried, its counts, the last rollback, and an
/// outcome still to report. Damaged, it is started afresh with a warning; the floor is then the
/// running configuration's version, so a replay still needs a higher one than what runs.
struct RemoteConfigState: Equatable {
    static let magic = "edge-agent pushed configuration state 1"

    /// The outcome of a configuration, for `reply/config-set` once connected.
    struct Report: Equatable {
        var outcome: String // "confirmed" or "rolled_back"
        var version: UInt64
        var requestID: String
        var reason: String
    }

    /// No configuration at or under this version is taken: the highest one tried (a rolled-back
    /// version cannot come back, a retained group configuration is not applied again and again).
    var floor: UInt64 = 0
    var applied: UInt64 = 0
    var confirmed: UInt64 = 0
    var rolledBack: UInt64 = 0
    var lastRollback: String?
    var report: Report?

    func serialized() -> [UInt8] {
        var text = "\(RemoteConfigState.magic)\nfloor \(floor)\napplied \(applied)\nconfirmed \(confirmed)\nrolled_back \(rolledBack)\n"
        if let lastRollback { text += "last_rollback \(StoredConfig.oneLine(lastRollback))\n" }
        if let report {
            text += "report_outcome \(report.outcome)\nreport_version \(report.version)\n"
            text += "report_id \(StoredConfig.oneLine(report.requestID))\nreport_reason \(StoredConfig.oneLine(report.reason))\n"
        }
        return Array((text + "\n").utf8)
    }

    static func parse(_ bytes: [UInt8]) -> RemoteConfigState? {
        guard let (fields, body) = HeaderedFile.split(bytes, magic: magic), body.isEmpty else { return nil }
        var state = RemoteConfigState()
        guard let floor = fields["floor"].flatMap({ UInt64($0) }), let applied = fields["applied"].flatMap({ UInt64($0) }),
            let confirmed = fields["confirmed"].flatMap({ UInt64($0) }), let rolledBack = fields["rolled_back"].flatMap({ UInt64($0) })
        else { return nil }
        state.floor = floor
        state.applied = applied
        state.confirmed = confirmed
        state.rolledBack = rolledBack
        state.lastRollback = fields["last_rollback"]
        if let outcome = fields["report_outcome"] {
            guard outcome == "confirmed" || outcome == "rolled_back", let version = fields["report_version"].flatMap({ UInt64($0) }),
                let id = fields["report_id"], let reason = fields["report_reason"]
            else { return nil }
            state.report = Report(outcome: outcome, version: version, requestID: id, reason: reason)
        }
        return state
    }
}

/// `magic`, then `key value` lines up to a blank line, then the body.
enum HeaderedFile {
    static func split(_ bytes: [UInt8], magic: String) -> (fields: [String: String], body: ArraySlice<UInt8>)? {
        var fields: [String: String] = [:]
        var start = 0
        var first = true
        while true {
            guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            let line = String(decoding: bytes[start..<end], as: UTF8.self)
            start = end + 1
            if first {
                guard line == magic else { return nil }
                first = false
                continue
            }
            if line.isEmpty { return (fields, bytes[start...]) }
            guard let space = line.firstIndex(of: " ") else { return nil }
            let key = String(line[..<space])
            guard fields[key] == nil, fields.count < 32 else { return nil }
            fields[key] = String(line[line.index(after: space)...])
        }
    }
}
