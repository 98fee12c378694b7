import MQTT

/// Conditions that can repeat many times a second (a broker sending bogus acknowledgements, a
/// flood of commands), logged once per episode: the first occurrence in full, then, while it goes
/// on, one line per `period` saying how many more there were. An episode ends after a quiet period,
/// with a line giving the count in all if there was more than one.
///
/// One instance is shared by the components that report such conditions (the wiring makes it and
/// passes it in), so the loop ticks one log and a key names one episode wherever it is noted.
final class RepeatedLog {
    static let period: UInt64 = 60_000_000_000

    private struct Episode {
        var since: UInt64
        var more: UInt64 = 0
        var total: UInt64 = 1
    }

    private var episodes: [String: Episode] = [:]
    private let write: (String) -> Void

    init(write: @escaping (String) -> Void = { Log.warning($0) }) { self.write = write }

    /// One occurrence of the condition `key`.
    func note(_ key: String, _ message: @autoclosure () -> String, now: UInt64 = MonotonicClock.now()) {
        if episodes[key] != nil {
            episodes[key]!.more += 1
            episodes[key]!.total += 1
        } else {
            episodes[key] = Episode(since: now)
            write(message())
        }
    }

    /// Reports the counts of episodes a period old; ends the quiet ones.
    func tick(now: UInt64) {
        guard !episodes.isEmpty else { return } // every loop turn: the usual answer, at once
        // `now` may be a little older than an episode noted later in the same loop turn: compare,
        // do not subtract, or the difference wraps and ends the episode at once.
        for (key, episode) in episodes where now > episode.since && now - episode.since >= RepeatedLog.period {
            if episode.more == 0 {
                // A quiet period: the episode is over. One that repeated says how often in all.
                if episode.total > 1 { write("\(key): over, \(episode.total) in all") }
                episodes[key] = nil
            } else {
                write("\(key): \(episode.more) more in the last \(RepeatedLog.period / 1_000_000_000) s")
                episodes[key] = Episode(since: now, total: episode.total)
            }
        }
    }

    /// When `tick` has something to do.
    var nextDeadline: UInt64? {
        guard !episodes.isEmpty else { return nil }
        var earliest = UInt64.max
        for episode in episodes.values { earliest = min(earliest, episode.since &+ RepeatedLog.period) }
        return earliest
    }
}
