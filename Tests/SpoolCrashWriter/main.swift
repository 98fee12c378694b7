// Appends records to a spool until killed, printing what the spool has promised:
//   "durable N"  every record with seq < N survives a crash now
//   "acked N"    the cursor durably says records before N are delivered
// First, what it found on opening the spool (the previous run's records, after a crash or a power
// cut): "reopened next N cursor C records R intact yes|no corrupt K cursor-lost yes|no", where
// intact means every record from the cursor on is there, in order, with the payload and timestamp
// it was written with.
// Usage: spool-crash-writer DIR always|interval [INTERVAL_MS [PER_SECOND]]
// (interval: 5 ms unless given; as fast as it can unless PER_SECOND is given, as a sensor would)
import Spool

#if canImport(Glibc)
import Glibc
#endif

func say(_ line: String) {
    var line = line + "\n"
    line.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// The payload every test expects for a sequence number.
func payload(for seq: UInt64) -> [UInt8] {
    let length = 8 + Int(seq % 200)
    return (0..<length).map { UInt8(truncatingIfNeeded: seq &* 31 &+ UInt64($0)) }
}

let arguments = CommandLine.arguments
let intervalMilliseconds = arguments.count > 3 ? UInt64(arguments[3]) ?? 5 : 5
let pause = arguments.count > 4 ? UInt32(1_000_000 / max(1, min(1_000_000, Int(arguments[4]) ?? 1_000_000))) : 0
let durability: SpoolConfiguration.Durability = arguments[2] == "always" ? .always : .interval(intervalMilliseconds * 1_000_000)
let spool = try Spool(
    directory: arguments[1],
    configuration: SpoolConfiguration(capacityBytes: 64 * 1024 * 1024, segmentBytes: 128 * 1024, durability: durability))
var intact = true, records: UInt64 = 0
_ = try spool.read(max: .max) { record in
    if record.seq != spool.nextUnacknowledged &+ records || !record.payload.elementsEqual(payload(for: record.seq))
        || record.timestamp != 1_700_000_000_000 + Int64(truncatingIfNeeded: record.seq)
    {
        intact = false
    }
    records &+= 1
}
let cursorLost = spool.drainEvents().contains(.cursorLost)
say(
    "reopened next \(spool.nextSeq) cursor \(spool.nextUnacknowledged) records \(records) intact \(intact ? "yes" : "no") "
        + "corrupt \(spool.corruptRecords) cursor-lost \(cursorLost ? "yes" : "no")")
var lastDurable = spool.durableSeq
var ackedDurably = spool.durableNextUnacknowledged
say("durable \(lastDurable)")
say("acked \(ackedDurably)")
while true {
    let seq = spool.nextSeq
    if pause > 0 { usleep(pause) }
    _ = try spool.append(payload(for: seq), timestamp: 1_700_000_000_000 + Int64(truncatingIfNeeded: seq))
    if seq % 97 == 0 && seq > 50 { try spool.ack(through: seq - 50) }
    if spool.durableSeq != lastDurable {
        lastDurable = spool.durableSeq
        say("durable \(lastDurable)")
    }
    if spool.durableNextUnacknowledged != ackedDurably {
        ackedDurably = spool.durableNextUnacknowledged
        say("acked \(ackedDurably)")
    }
}
