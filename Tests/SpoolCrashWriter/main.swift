// Appends records to a spool until killed, printing what the spool has promised:
//   "durable N"  every record with seq < N survives a crash now
//   "acked N"    the cursor durably says records before N are delivered
// Usage: spool-crash-writer DIR always|interval
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
let durability: SpoolConfiguration.Durability = arguments[2] == "always" ? .always : .interval(5_000_000)
let spool = try Spool(directory: arguments[1],
                      configuration: SpoolConfiguration(capacityBytes: 64 * 1024 * 1024, segmentBytes: 128 * 1024, durability: durability))
var lastDurable = spool.durableSeq
var ackedDurably = spool.durableNextUnacknowledged
say("durable \(lastDurable)")
say("acked \(ackedDurably)")
while true {
    let seq = spool.nextSeq
    try spool.append(payload(for: seq), timestamp: 1_700_000_000_000 + Int64(seq))
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
