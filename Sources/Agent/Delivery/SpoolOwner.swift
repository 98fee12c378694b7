import Syscalls

#if canImport(Glibc)
import Glibc
#endif

/// Whose readings a spool holds: `<spool dir>/device` names the device id they were taken under.
/// A spool that arrives on another board (an SD card cloned from a board that was offline, or a
/// card moved between boards) holds the other board's readings under the other board's numbers:
/// backfilled here they would be published as this board's, and a consumer dropping repeats by
/// `(sensor, seq)` would drop this board's own. Such a spool is renamed aside, whole (readings,
/// sequence numbers, parked messages), for a person to collect, and a new one is started.
/// The file is this type's format alone.
enum SpoolOwner {
    static let fileName = "device"

    enum Finding: Equatable {
        /// No device file: a new spool, or one an earlier version wrote (taken as this device's).
        case unclaimed
        case own
        /// Another device's, named as the file says (or "unknown" when it is not a device id).
        case foreign(String)
    }

    /// What `directory`'s device file says about `device`.
    static func finding(directory: String, device: String) -> Finding {
        guard let text = DeviceIdentity.readPrefix(of: path(directory), bytes: 256) else {
            return errno == ENOENT ? .unclaimed : .foreign("unknown")
        }
        let id = text.hasSuffix("\n") ? String(text.dropLast()) : text
        if id == device { return .own }
        return .foreign(TopicLevel.problem(id) == nil ? id : "unknown")
    }

    /// Writes the device file (new file, fsync, rename): this spool's readings are `device`'s.
    static func claim(directory: String, device: String) throws(AgentError) {
        if let error = SequenceStore.writeAtomically(device + "\n", to: path(directory)) {
            throw AgentError.spool("cannot record the spool's device: \(error)")
        }
    }

    /// Renames `directory` to `<directory>.from-<foreign>` (or with `-2`, `-3`... when that is
    /// taken); returns the new path.
    static func setAside(directory: String, foreign: String) throws(AgentError) -> String {
        var base = directory
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        let label = String(foreign.unicodeScalars.map { isPathSafe($0) ? Character($0) : "_" })
        let stem = "\(base).from-\(label)"
        for attempt in 1...100 {
            let target = attempt == 1 ? stem : "\(stem)-\(attempt)"
            if access(target, F_OK) == 0 { continue }
            guard rename(base, target) == 0 else {
                throw AgentError.spool("cannot set aside \(base) (written by device \(foreign)): \(String(cString: strerror(errno)))")
            }
            return target
        }
        throw AgentError.spool("cannot set aside \(base) (written by device \(foreign)): \(stem) to \(stem)-100 all exist")
    }

    private static func path(_ directory: String) -> String { directory + "/" + fileName }

    private static func isPathSafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "0"..."9", "a"..."z", "A"..."Z", "-", "_": true
        default: false
        }
    }
}
