import MQTT
import Spool
import Syscalls

/// The record component: turns what a sensor or line produced into the agent's spool record
/// (AgentRecord's layout, the JSON `{"seq":..,"ts":..,<fields>}`), numbers it from the sequence
/// store, marks it while the clock is not synchronised, and hands it on: to the state topics as
/// the name's newest state, and to delivery, which stores and publishes it. It owns the one buffer
/// every record is written in (reserved once: nothing is allocated per reading).
final class Recorder {
    private var json = JSONWriter()
    private let sequences: SequenceStore
    private let clock: ClockSync?
    private let delivery: Delivery
    private let states: StatePublisher

    init(sequences: SequenceStore, clock: ClockSync?, delivery: Delivery, states: StatePublisher) {
        self.sequences = sequences
        self.clock = clock
        self.delivery = delivery
        self.states = states
    }

    deinit { json.deallocate() }

    /// Fills in a target's counter and checked topic, once at start-up.
    func resolve(_ target: inout RecordTarget, topics: Topics) {
        target.resolve(sequences: sequences, topics: topics)
    }

    /// The clock job: whether readings are marked `clock_synced: false`.
    func refreshClock(now: Nanoseconds) { clock?.refresh(now: now) }

    /// Stores and publishes one record of `target`, with its own sequence number, and makes it its
    /// newest state. Returns false if it was lost (the spool refused it and no broker took it).
    @discardableResult
    func record(_ target: borrowing RecordTarget, timestamp: Int64, fields: (inout JSONWriter) -> Void) -> Bool {
        json.reset()
        var name = target.name
        name.withUTF8 { AgentRecord.writeHeader(name: UnsafeRawBufferPointer($0), event: target.event, into: &json) }
        let header = json.view.count
        json.beginObject()
        if let counter = target.sequence { json.key("seq"); json.integer(sequences.next(counter: counter)) }
        json.key("ts"); json.integer(timestamp)
        fields(&json)
        if let clock, !clock.synced { json.key("clock_synced"); json.literal("false") }
        json.endObject()
        states.update(target.stateSlot, json: UnsafeRawBufferPointer(rebasing: json.view[header...]))
        return delivery.deliver(record: json.view, timestamp: timestamp, now: MonotonicClock.now(), topic: target.topic, jsonStart: header)
    }

    /// At shutdown: the sequence numbers are saved as a clean stop's.
    func close() { sequences.close() }
}
