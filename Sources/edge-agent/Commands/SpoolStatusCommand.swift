import Agent
import ArgumentParser
import Spool

struct SpoolStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Records, bytes, oldest and newest timestamps, cursor, losses.")

    @Option(help: "Spool directory.")
    var dir: String

    func run() throws {
        let spool = try openSpool(dir)
        let s: SpoolStatus
        do { s = try spool.status() } catch { printError("\(error)"); throw ExitCode(1) }
        print(
            """
            records:        \(s.records) unacknowledged
            bytes:          \(s.bytesOnDisk) in \(s.segments) segment(s)
            oldest:         \(s.oldestTimestamp.map(formatTimestamp) ?? "-")
            newest:         \(s.newestTimestamp.map(formatTimestamp) ?? "-")
            cursor:         next to deliver \(s.nextUnacknowledged), next to append \(s.nextSeq)
            dropped:        \(s.dropped) readings (spool full)
            discarded:      \(s.discardedBytes) bytes (torn tail cut at open)
            corrupt:        \(s.corruptRecords) records skipped
            """)
    }
}
