import Foundation
import TestSupport
import Testing

@testable import Spool

/// The spool on a real, full file system: a tmpfs of 256 KiB.
@Suite("Spool on a full disk", .serialized)
struct SpoolDiskFullTests {
    final class SmallDisk {
        let directory = TemporaryDirectory("spool-full")
        var path: String { directory.path + "/disk" }
        init() throws {
            try FileManager.default.createDirectory(atPath: directory.path + "/disk", withIntermediateDirectories: true)
            _ = try run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", directory.path + "/disk"])
        }
        deinit { _ = try? run("umount", ["-l", directory.path + "/disk"]) }
    }

    /// `.always` acknowledges only what is on the disk: an append the disk refuses throws, takes
    /// nothing, and everything acknowledged before is there after a reopen, in order.
    @Test func alwaysRefusesWhatTheDiskCannotTakeAndKeepsWhatItAcknowledged() throws {
        let disk = try SmallDisk()
        // Room for less than one segment: there is nothing older to drop.
        FileManager.default.createFile(atPath: disk.path + "/filler", contents: Data(count: 200 * 1024))
        var configuration = SpoolConfiguration(capacityBytes: 4 << 20, durability: .always)
        configuration.segmentBytes = 64 * 1024 + 64
        var acknowledged: [UInt64] = []
        var refused = 0
        var events: [SpoolEvent] = []
        do {
            let spool = try Spool(directory: disk.path + "/spool", configuration: configuration)
            spool.onEvent = { events.append($0) }
            let payload = [UInt8](repeating: 0x41, count: 900)
            for _ in 0..<600 {
                do { acknowledged.append(try spool.append(payload, timestamp: 1_700_000_000_000)) } catch {
                    refused += 1; #expect(error == .noSpace(path: spool.segments.last!.path))
                }
            }
            #expect(spool.isWriteFailing)
            #expect(spool.nextSeq == UInt64(acknowledged.count), "a refused append takes no sequence number")
        }
        #expect(refused > 0 && acknowledged.count > 30, "\(acknowledged.count) stored, \(refused) refused")
        #expect(acknowledged == Array(0..<UInt64(acknowledged.count)))
        #expect(
            events.filter { if case .writeFailed = $0 { true } else { false } }.count == 1, "one report per episode: \(events.count) events"
        )
        let reopened = try Spool(directory: disk.path + "/spool", configuration: configuration)
        #expect(try reopened.readAll().map(\.seq) == acknowledged)
    }

    /// With older segments to spare, a full disk makes the spool a smaller ring: the oldest go, the
    /// reason is given, and every append is kept.
    @Test func aFullDiskDropsTheOldestSegmentWhenThereIsOne() throws {
        let disk = try SmallDisk()
        var configuration = SpoolConfiguration(capacityBytes: 4 << 20, durability: .always)
        configuration.segmentBytes = 64 * 1024 + 64
        let spool = try Spool(directory: disk.path + "/spool", configuration: configuration)
        var events: [SpoolEvent] = []
        spool.onEvent = { events.append($0) }
        let payload = [UInt8](repeating: 0x41, count: 900)
        for i in 0..<600 { #expect(try spool.append(payload, timestamp: 1_700_000_000_000) == UInt64(i)) }
        #expect(events.contains { if case .droppedOldest(_, _, _, _, .diskFull) = $0 { true } else { false } })
        #expect(spool.dropped > 0)
        #expect(try spool.readAll().map(\.seq) == Array(spool.dropped..<600))
    }

    /// Under `.interval`, a failing write is tried once a second, not on every append, and the
    /// records held in memory reach the disk once there is room.
    @Test func intervalHoldsRecordsInMemoryAndWritesThemWhenRoomReturns() throws {
        let disk = try SmallDisk()
        let filler = disk.path + "/filler"
        FileManager.default.createFile(atPath: filler, contents: Data(count: 200 * 1024))
        var configuration = SpoolConfiguration(capacityBytes: 4 << 20, durability: .interval(10_000_000))
        configuration.segmentBytes = 64 * 1024 + 64
        let spool = try Spool(directory: disk.path + "/spool", configuration: configuration)
        var events: [SpoolEvent] = []
        spool.onEvent = { events.append($0) }
        let payload = [UInt8](repeating: 0x42, count: 500)
        var stored: [UInt64] = []
        var refused = 0
        for _ in 0..<400 {
            do { stored.append(try spool.append(payload, timestamp: 1_700_000_000_000)) } catch { refused += 1 }
            usleep(1000)
        }
        #expect(spool.isWriteFailing && refused > 0)
        let deadline = try #require(spool.nextSyncDeadline)
        #expect(deadline > Spool.monotonicNow(), "the next try waits for the retry interval")
        try FileManager.default.removeItem(atPath: filler)
        usleep(1_100_000)
        try spool.syncIfDue()
        #expect(!spool.isWriteFailing)
        #expect(events.contains { if case .writingResumed = $0 { true } else { false } })
        #expect(try spool.readAll().map(\.seq) == stored)
    }
}
