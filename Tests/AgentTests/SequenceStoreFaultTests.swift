import Foundation
import Syscalls
import TestSupport
import Testing

@testable import Agent

/// The `sequences` file's writes failing as disks fail (`FileFaults`): the file on disk always
/// holds a bound that is whole and not below a number handed out once a write got through.
@Suite("Sequence numbers with injected file faults")
struct SequenceStoreFaultTests {
    func storedBound(_ path: String) throws -> UInt64? {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard case .success(let values) = SequenceStore.parse(text) else { return nil }
        return values["telemetry/air"]
    }

    /// A failed rename (or fsync) leaves the old file whole, no temporary file behind, and the
    /// bound is written again a second later: after a crash, nothing handed out repeats.
    @Test(arguments: [FileFaults.Call.rename, .sync])
    func aFailedWriteLeavesTheOldFileAndIsTriedAgain(call: FileFaults.Call) throws {
        let dir = TemporaryDirectory("sequence-fault")
        defer { FileFaults.clear(under: dir.path + "/") }
        var store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: { _ in })
        for _ in 0..<1024 { _ = store.next(name: "air", event: false) }
        #expect(try storedBound(dir.file("sequences")) == 1024)
        FileFaults.inject(.fail(.ioError), on: call, under: dir.path + "/", times: .max)
        #expect(store.next(name: "air", event: false) == 1024) // past the bound: its write fails
        #expect(try storedBound(dir.file("sequences")) == 1024)
        #expect(!FileManager.default.fileExists(atPath: dir.file("sequences.new")))
        FileFaults.clear(under: dir.path + "/")
        usleep(1_050_000)
        #expect(store.next(name: "air", event: false) == 1025) // tried again, and written
        #expect(try storedBound(dir.file("sequences")) == 2048)
        store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: { _ in }) // a crash
        #expect(store.next(name: "air", event: false) == 2048)
    }

    /// A write of the new file torn by a full disk: the old file stays as it was.
    @Test func aTornWriteLeavesTheOldFile() throws {
        let dir = TemporaryDirectory("sequence-fault")
        defer { FileFaults.clear(under: dir.path + "/") }
        let store = SequenceStore(directory: dir.path, telemetry: ["air"], events: [], warning: { _ in })
        _ = store.next(name: "air", event: false)
        let before = try String(contentsOfFile: dir.file("sequences"), encoding: .utf8)
        FileFaults.inject(.short(10), on: .write, under: dir.path + "/")
        FileFaults.inject(.fail(.noSpace), on: .write, under: dir.path + "/", times: .max)
        store.close()
        #expect(try String(contentsOfFile: dir.file("sequences"), encoding: .utf8) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("sequences.new")))
    }
}
