/// Outgoing QoS 1 and 2 messages that the broker has not yet acknowledged, kept in send order so
/// that a reconnect re-sends them in their original order (MQTT-4.4.0-1, MQTT-4.6.0-1).
///
/// Memory is fixed at construction, as coreMQTT does it: `capacity` slots in a ring, and one byte
/// arena holding each message's encoded PUBLISH for re-sending. It is a sliding window, like TCP's:
/// acknowledgements may arrive out of order, but a slot and its bytes are reclaimed only when every
/// older message is done too, so one message the broker never acknowledges stalls new ones at
/// `capacity` (back-pressure) instead of letting them pass it.
import Syscalls

struct InflightWindow {
    enum Stage: UInt8 {
        case awaitingPuback // QoS 1, PUBLISH sent or waiting to be
        case awaitingPubrec // QoS 2, PUBLISH sent or waiting to be
        case awaitingPubcomp // QoS 2, PUBREL sent
        case done
    }

    struct Slot {
        var packetID: UInt16 = 0
        var stage: Stage = .done
        /// Whether the PUBLISH went out on some connection (a re-send then carries DUP, MQTT-3.3.1-1).
        var sent = false
        /// Written on this connection and not yet done.
        var onWire = false
        /// Times the broker refused it for a reason that passes (`RefusalAction.retry`).
        var retries: UInt8 = 0
        /// Not to be written again before this (a refusal's pause).
        var notBefore: Nanoseconds = 0
        /// Reservation order, to find where sending resumes without scanning from the oldest.
        var serial: UInt64 = 0
        /// The stored PUBLISH is 5.0's layout (with a property block), else 3.1.1's: a connection
        /// in the other version gets it re-encoded (MQTTSession.sendWaiting).
        var v5 = false
        var start = 0
        var length = 0
    }

    let capacity: Int
    /// `capacity` slots, allocated once (an array here paid a uniqueness check on every change).
    private let slots: UnsafeMutablePointer<Slot>
    private var first = 0 // index of the oldest slot
    private(set) var count = 0 // slots in use, done or not, from `first`
    private(set) var pending = 0 // slots not yet done
    private(set) var onWire = 0 // slots on the wire
    private(set) var pausing = 0 // slots waiting out a refusal's pause
    private var reserved: UInt64 = 0 // serials handed out
    /// Every slot with a lower serial is done or on the wire: where `nextToSend` starts looking.
    /// Messages go out in order, so under a Receive Maximum this keeps each look O(1).
    private var unsentFrom: UInt64 = 0
    private var arena: UnsafeMutableRawBufferPointer
    private var arenaHead = 0 // where the next message goes
    private var ids = PacketIDSet()
    private var nextID: UInt16 = 1

    init(capacity: Int, arenaBytes: Int) {
        precondition(capacity > 0 && capacity < 65_535)
        self.capacity = capacity
        self.slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(), count: capacity)
        self.arena = .allocate(byteCount: max(arenaBytes, 1024), alignment: 8)
    }

    /// The slots and the arena are released by the owning session (a struct cannot have a deinit).
    func deallocate() {
        slots.deallocate()
        arena.deallocate()
        ids.deallocate()
    }

    var isFull: Bool { count == capacity }

    func contains(_ id: UInt16) -> Bool { ids.contains(id) }

    /// Reserves a slot and `length` arena bytes; returns the packet id and the bytes to fill,
    /// or nil if the window or the arena is full.
    mutating func reserve(length: Int, qos: QoS, v5: Bool = false) -> (id: UInt16, bytes: UnsafeMutableRawBufferPointer, index: Int)? {
        precondition(qos != .atMostOnce)
        guard count < capacity, let start = arenaPlace(length) else { return nil }
        var id = nextID
        while ids.contains(id) || id == 0 { id = id &+ 1 } // never reuse an id still in flight
        nextID = id &+ 1 == 0 ? 1 : id &+ 1
        ids.insert(id)
        let index = (first + count) % capacity
        slots[index] = Slot(
            packetID: id, stage: qos == .atLeastOnce ? .awaitingPuback : .awaitingPubrec, serial: reserved, v5: v5, start: start,
            length: length)
        reserved &+= 1
        count += 1
        pending += 1
        arenaHead = start + length
        return (id, UnsafeMutableRawBufferPointer(rebasing: arena[start..<start + length]), index)
    }

    /// The stage a packet id is in, if in flight.
    func stage(of id: UInt16) -> Stage? {
        guard ids.contains(id), let index = index(of: id) else { return nil }
        return slots[index].stage
    }

    /// Moves a QoS 2 message from PUBREC to PUBCOMP wait. Returns false if not in that stage.
    mutating func received(pubrec id: UInt16) -> Bool {
        guard ids.contains(id), let index = index(of: id) else { return false }
        if slots[index].stage == .awaitingPubrec { slots[index].stage = .awaitingPubcomp; return true }
        return slots[index].stage == .awaitingPubcomp // a repeated PUBREC: answer with PUBREL again
    }

    /// Completes a message on PUBACK (QoS 1) or PUBCOMP (QoS 2). Returns false if `id` was not
    /// waiting for that acknowledgement.
    mutating func complete(_ id: UInt16, expecting stage: Stage) -> Bool {
        guard ids.contains(id), let index = index(of: id), slots[index].stage == stage else { return false }
        let slot = slots + index
        slot.pointee.stage = .done
        if slot.pointee.onWire { onWire -= 1 }
        if slot.pointee.notBefore != 0 { pausing -= 1 }
        ids.remove(id)
        pending -= 1
        while count > 0 && slots[first].stage == .done {
            first = (first + 1) % capacity
            count -= 1
        }
        if count == 0 { first = 0; arenaHead = 0 }
        return true
    }

    /// The oldest message pending and off the wire whose pause, if any, is over at `now`: its
    /// stage, packet id, whether it went out before, and its stored PUBLISH.
    mutating func nextToSend(now: Nanoseconds) -> (
        stage: Stage, id: UInt16, wasSent: Bool, bytes: UnsafeMutableRawBufferPointer, index: Int, v5: Bool
    )? {
        guard count > 0 else { return nil }
        var k = Int(min(UInt64(count), unsentFrom &- min(unsentFrom, slots[first].serial)))
        var advancing = true
        while k < count {
            let index = (first + k) % capacity
            let slot = slots[index]
            if slot.stage != .done && !slot.onWire {
                if slot.notBefore <= now {
                    return (
                        slot.stage, slot.packetID, slot.sent,
                        UnsafeMutableRawBufferPointer(rebasing: arena[slot.start..<slot.start + slot.length]), index, slot.v5
                    )
                }
                advancing = false // paused: still to send, later
            } else if advancing {
                unsentFrom = slot.serial &+ 1
            }
            k += 1
        }
        return nil
    }

    /// When the first paused message may go again.
    var pauseEnds: Nanoseconds? {
        guard pausing > 0 else { return nil }
        var earliest = Nanoseconds.max
        var k = 0
        while k < count {
            let slot = slots[(first + k) % capacity]
            if slot.stage != .done && slot.notBefore != 0 { earliest = min(earliest, slot.notBefore) }
            k += 1
        }
        return earliest
    }

    /// Takes a refused message off the wire until `until`; returns how often it was refused so.
    mutating func pause(_ id: UInt16, until: Nanoseconds) -> Int {
        guard ids.contains(id), let index = index(of: id) else { return 0 }
        if slots[index].onWire { onWire -= 1 }
        if slots[index].notBefore == 0 { pausing += 1 }
        unsentFrom = min(unsentFrom, slots[index].serial)
        slots[index].onWire = false
        slots[index].sent = false // the broker ended that delivery: the next is a new one, DUP 0
        slots[index].notBefore = until
        slots[index].retries &+= 1
        return Int(slots[index].retries)
    }

    /// How often the broker refused a message in flight for a reason that passes.
    func retries(of id: UInt16) -> Int {
        guard ids.contains(id), let index = index(of: id) else { return 0 }
        return Int(slots[index].retries)
    }

    /// The connection ended: nothing is on the wire any more.
    mutating func connectionClosed() {
        unsentFrom = count > 0 ? slots[first].serial : reserved
        var k = 0
        while k < count {
            slots[(first + k) % capacity].onWire = false
            k += 1
        }
        onWire = 0
    }

    /// The oldest message not yet done, if it was sent on some connection.
    var oldestSent: UInt16? {
        var k = 0
        while k < count {
            let slot = slots[(first + k) % capacity]
            if slot.stage != .done { return slot.sent ? slot.packetID : nil }
            k += 1
        }
        return nil
    }

    /// The stored PUBLISH of a message in flight.
    func bytes(of id: UInt16) -> UnsafeRawBufferPointer? { stored(id)?.bytes }

    /// The stored PUBLISH of a message in flight, and whether it is in 5.0's layout.
    func stored(_ id: UInt16) -> (bytes: UnsafeRawBufferPointer, v5: Bool)? {
        guard ids.contains(id), let index = index(of: id) else { return nil }
        return (UnsafeRawBufferPointer(rebasing: arena[slots[index].start..<slots[index].start + slots[index].length]), slots[index].v5)
    }

    /// Completes a message whatever its stage: the broker will never acknowledge it.
    mutating func abandon(_ id: UInt16) -> Bool {
        guard ids.contains(id), let index = index(of: id) else { return false }
        return complete(id, expecting: slots[index].stage)
    }

    /// The message was written on this connection.
    mutating func markSent(_ id: UInt16) {
        if let index = index(of: id) { markSent(index: index) }
    }

    /// The same for the slot `reserve` just returned (the hot path: no lookup).
    mutating func markSent(index: Int) {
        let slot = slots + index
        guard !slot.pointee.onWire else { return }
        if slot.pointee.notBefore != 0 {
            pausing -= 1
            slot.pointee.notBefore = 0
        }
        slot.pointee.sent = true
        slot.pointee.onWire = true
        onWire += 1
        if slot.pointee.serial == unsentFrom { unsentFrom &+= 1 } // the usual case: sent as published
    }

    mutating func removeAll() {
        unsentFrom = reserved
        count = 0
        pending = 0
        onWire = 0
        pausing = 0
        first = 0
        arenaHead = 0
        ids.removeAll()
    }

    private func index(of id: UInt16) -> Int? {
        // The two usual cases cost one step each: the newest message (marked sent just after it was
        // reserved) and the oldest (acknowledgements come mostly in order, so the scan from the
        // oldest usually stops at once).
        guard count > 0 else { return nil }
        let newest = (first + count - 1) % capacity
        if slots[newest].packetID == id && slots[newest].stage != .done { return newest }
        var k = 0
        while k < count {
            let index = (first + k) % capacity
            if slots[index].packetID == id && slots[index].stage != .done { return index }
            k += 1
        }
        return nil
    }

    /// Where `length` bytes fit in the arena, or nil. Messages never wrap; a message that does not
    /// fit at the end goes to the front if the oldest live message starts far enough in.
    private mutating func arenaPlace(_ length: Int) -> Int? {
        if count == 0 {
            if length > arena.count { growArena(to: length) }
            arenaHead = 0
            return 0
        }
        let tail = slots[first].start
        if arenaHead > tail { // live bytes are [tail, arenaHead)
            if arena.count - arenaHead >= length { return arenaHead }
            if tail >= length { return 0 }
            return nil
        }
        return tail - arenaHead >= length ? arenaHead : nil // wrapped: free space is [arenaHead, tail)
    }

    /// Only when one message is larger than the whole arena (and the window is empty).
    private mutating func growArena(to length: Int) {
        arena.deallocate()
        arena = .allocate(byteCount: length, alignment: 8)
    }
}
