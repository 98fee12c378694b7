import Agent
import ArgumentParser
import Spool

struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Inspect the on-disk buffer of readings.",
        subcommands: [SpoolStatusCommand.self, SpoolDumpCommand.self])
}

/// Opens a spool for inspection. It takes the spool's lock, so it fails while the agent runs.
func openSpool(_ directory: String) throws -> Spool {
    do {
        // Inspection never writes records; the configuration only has to admit what is on disk.
        let spool = try Spool(
            directory: directory, configuration: SpoolConfiguration(capacityBytes: Int.max / 4, segmentBytes: 64 * 1024 * 1024))
        for event in spool.drainEvents() { printError("\(event)") }
        return spool
    } catch {
        printError("\(error)")
        throw ExitCode(1)
    }
}

/// Text payloads as they are; the agent's records (AgentRecord) as `telemetry/<name> {json}` or
/// `events/<name> {json}`; anything else as hex.
func printable(_ bytes: UnsafeRawBufferPointer) -> String {
    if let record = AgentRecord(bytes),
        record.name.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), record.json.first == UInt8(ascii: "{"),
        record.json.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
    {
        return (record.event ? "events/" : "telemetry/") + String(decoding: record.name, as: UTF8.self) + " "
            + String(decoding: record.json, as: UTF8.self)
    }
    if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
    let digits: [Character] = Array("0123456789abcdef")
    var text = "0x"
    for b in bytes { text.append(digits[Int(b >> 4)]); text.append(digits[Int(b & 0xF)]) }
    return text
}

/// UTC milliseconds as ISO 8601, from the civil-from-days algorithm (no Foundation, no ICU).
func formatTimestamp(_ milliseconds: Int64) -> String {
    // The timestamp comes from a spool file: keep it within years 0 to 9999.
    let milliseconds = min(max(milliseconds, -62_167_219_200_000), 253_402_300_799_999)
    let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    let ms = Int(milliseconds - seconds * 1000)
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = Int(seconds - days * 86_400)
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = doy - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return
        "\(pad(Int(year), 4))-\(pad(Int(month), 2))-\(pad(Int(day), 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(ms, 3))Z"
}
