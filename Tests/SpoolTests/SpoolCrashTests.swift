import Foundation
import TestSupport
import Testing

@testable import Spool

/// A child process appends continuously and is killed with SIGKILL at random moments; after each
/// kill the spool must hold every record the durability policy promised, in order, with nothing
/// corrupt returned and nothing before the durable cursor delivered again. This is a crash of the
/// process only: the kernel keeps the page cache, so it passes without a single fdatasync. Power
/// cuts, where what was not synced is lost, are scripts/power-cut-test.sh's (a qemu guest).
@Suite("Spool crash safety")
struct SpoolCrashTests {
    static var writer: String {
        // The test bundle sits in the build directory next to the executables.
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("spool-crash-writer").path
    }

    @Test(arguments: ["always", "interval"])
    func survivesSIGKILL(policy: String) throws {
        let dir = TemporaryDirectory("spool-crash")
        let log = TemporaryDirectory("spool-crash-log")
        var promisedThrough: UInt64 = 0 // records below this must be there
        var ackedDurably: UInt64 = 0 // the cursor on disk is at least this
        var progressed = 0 // rounds in which the writer got further than before
        for round in 0..<30 {
            let out = log.file("out-\(round)")
            let child = try ChildProcess(Self.writer, [dir.path, policy], stdout: out)
            usleep(UInt32.random(in: 5_000...40_000))
            child.signal(SIGKILL)
            child.wait()
            let before = promisedThrough
            let lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n")
            for line in lines {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let n = UInt64(parts[1]) else { continue }
                if parts[0] == "durable" { promisedThrough = max(promisedThrough, n) }
                if parts[0] == "acked" { ackedDurably = max(ackedDurably, n) }
            }
            let spool = try Spool(
                directory: dir.path, configuration: SpoolConfiguration(capacityBytes: 64 * 1024 * 1024, segmentBytes: 128 * 1024))
            let events = spool.drainEvents()
            #expect(!events.contains { if case .skippedCorrupt = $0 { true } else { false } })
            #expect(!events.contains(.cursorLost))
            // Never skip: the cursor is not ahead of anything the writer acknowledged durably...
            #expect(spool.nextUnacknowledged >= ackedDurably)
            // ...and every promised record from the cursor on is there, in order, intact.
            let records = try spool.readAll()
            #expect(records.first.map { $0.seq == spool.nextUnacknowledged } ?? true)
            for (i, r) in records.enumerated() {
                #expect(r.seq == spool.nextUnacknowledged + UInt64(i))
                #expect(r.payload == payload(for: r.seq))
                #expect(r.timestamp == timestamp(for: r.seq))
            }
            #expect(spool.nextSeq >= promisedThrough, "round \(round): promised \(promisedThrough), found \(spool.nextSeq)")
            #expect(spool.corruptRecords == 0)
            if promisedThrough > before { progressed += 1 }
        }
        // Kills landed while the writer was writing, not only before it started: otherwise the
        // checks above would hold of an empty spool. (A loaded machine starts the writer late in
        // many rounds; a few rounds with progress are enough to make the test mean something.)
        #expect(progressed >= 3, "the writer made progress in only \(progressed) of 30 rounds")
    }
}
