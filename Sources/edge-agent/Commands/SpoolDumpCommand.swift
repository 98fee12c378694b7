import Agent
import ArgumentParser
import Spool

struct SpoolDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print unacknowledged records, oldest first: seq, timestamp, payload.")

    @Option(help: "Spool directory.")
    var dir: String

    @Option(help: "Print at most this many records.")
    var limit: Int = .max

    func run() throws {
        let spool = try openSpool(dir)
        spool.onEvent = { printError("\($0)") }
        var printed = 0
        do {
            while printed < limit {
                let n = try spool.read(max: min(1000, limit - printed)) { record in
                    writeOut("\(record.seq) \(formatTimestamp(record.timestamp)) \(printable(record.payload))\n")
                }
                if n == 0 { break }
                printed += n
            }
        } catch { printError("\(error)"); throw ExitCode(1) }
    }
}
