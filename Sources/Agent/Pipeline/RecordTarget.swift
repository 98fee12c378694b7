import MQTT

/// Where one sensor's or line's records go, worked out once at start-up so that a reading looks
/// nothing up by name: the name (the spool record's and the topic's last level), whether its
/// records are events, its sequence counter, its topic checked once, and its state-topic slot.
struct RecordTarget {
    let name: String
    let event: Bool
    /// Its counter in the SequenceStore; nil for none (no `seq` is stamped).
    var sequence: Int?
    /// Its telemetry or events topic; nil when it could not be made (then built and checked on
    /// each publish, which reports the problem).
    var topic: ValidatedTopic?
    /// Its slot in the state topics (StatePublisher); -1 without state topics.
    var stateSlot = -1

    init(name: String, event: Bool) {
        self.name = name
        self.event = event
    }

    /// Fills in its counter and checked topic, once at start-up.
    mutating func resolve(sequences: SequenceStore, topics: Topics) {
        sequence = sequences.counter(name: name, event: event)
        topic = topics.validated(name, event: event)
    }
}
