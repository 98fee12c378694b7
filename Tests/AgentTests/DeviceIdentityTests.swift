import Foundation
import Spool
import TestSupport
import Testing

@testable import Agent

/// `device_id: auto`, `{serial}`, and the spool's owner (a spool written under another id is set
/// aside, not backfilled).
@Suite struct DeviceIdentityTests {
    @Test func serialsAreTrimmedAndPlaceholdersRefused() throws {
        // A Raspberry Pi's device-tree string ends with a NUL; machine-id with a newline.
        #expect(try DeviceIdentity.clean("10000000a1b2c3d4\0").get() == "10000000a1b2c3d4")
        #expect(try DeviceIdentity.clean("4c4c4544004a3510804bb4c04f4d3732\n").get() == "4c4c4544004a3510804bb4c04f4d3732")
        for junk in [
            "", "\0", "  \n", "abc", "To Be Filled By O.E.M.", "Default string", "0000000000000000", "System Serial Number",
            "0123456789", "ab/cd+ef", "serial\u{1}x", String(repeating: "ab", count: 25), "NONE-1234", "ffff-ffff",
        ] {
            #expect(throws: SerialProblem.self, "\(junk.debugDescription)") { try DeviceIdentity.clean(junk).get() }
        }
    }

    @Test func theFirstUsableSourceWinsAndEveryRefusalIsSaid() throws {
        let files = ["/a": "Default string", "/c": "0000000012345678\0", "/d": "later-one"]
        let found = try DeviceIdentity.serial(sources: ["/a", "/b", "/c", "/d"], read: { files[$0] }).get()
        #expect(found.serial == "0000000012345678" && found.source == "/c")
        let none = DeviceIdentity.serial(sources: ["/a", "/b"], read: { files[$0] })
        guard case .failure(let notFound) = none else { Issue.record("found \(none)"); return }
        #expect(notFound.reasons.count == 2 && notFound.description.contains("/a: a placeholder"))
    }

    @Test func autoAndTheSerialInsideAnId() {
        #expect(DeviceIdentity.needsSerial("auto") && DeviceIdentity.needsSerial("site-{serial}"))
        #expect(!DeviceIdentity.needsSerial("automatic") && !DeviceIdentity.needsSerial("kitchen"))
        #expect(DeviceIdentity.resolve("auto", serial: "ab12") == "ab12")
        #expect(DeviceIdentity.resolve("g-{serial}-{serial}", serial: "ab12") == "g-ab12-ab12")
    }

    @Test func aConfigTakesTheBoardsSerialFromTheBoardFile() throws {
        let dir = TemporaryDirectory("identity")
        try "1000000012ab34cd\0".write(toFile: dir.file("serial"), atomically: true, encoding: .utf8)
        try "model: Cloned\ngpio_chip: simulated\nserial_files: [\(dir.file("missing")), \(dir.file("serial"))]\n"
            .write(toFile: dir.file("cloned.board.yaml"), atomically: true, encoding: .utf8)
        let body = "mqtt:\n  brokers: [mqtt://localhost:1883]\nboard: cloned\n"
        try ("device_id: site-{serial}\n" + body).write(toFile: dir.file("a.yaml"), atomically: true, encoding: .utf8)
        let config = try AgentConfig.load(path: dir.file("a.yaml"))
        #expect(config.deviceID == "site-1000000012ab34cd" && config.deviceIDSource == dir.file("serial"))
        #expect(config.mqtt.clientID == nil) // the client id follows the resolved device id
        // No usable serial: the error names the key, its line and why each file would not do.
        try "0\n".write(toFile: dir.file("serial"), atomically: true, encoding: .utf8)
        try ("device_id: auto\n" + body).write(toFile: dir.file("b.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try AgentConfig.load(path: dir.file("b.yaml"))
        } throws: { error in
            let text = "\(error)"
            return text.contains("b.yaml:1") && text.contains("device_id") && text.contains("missing:") && text.contains("shorter than 4")
        }
    }

    @Test func aSpoolWrittenUnderAnotherIdIsSetAsideWhole() throws {
        let dir = TemporaryDirectory("spool-owner")
        var settings = SpoolSettings()
        settings.dir = dir.file("spool")
        do {
            let (spool, existed, setAside) = try Delivery.openSpool(settings, device: "board-a")
            #expect(!existed && setAside == nil)
            for i in 0..<5 { _ = try spool.append(Array("reading \(i)".utf8), timestamp: 1_700_000_000_000) }
            try spool.sync()
        }
        // The same board again: its own spool, kept.
        do {
            let (spool, existed, setAside) = try Delivery.openSpool(settings, device: "board-a")
            #expect(existed && setAside == nil && spool.unacknowledgedCount == 5)
        }
        // A card moved to board-b: the readings are kept aside under board-a's name, not taken.
        let (spool, existed, setAside) = try Delivery.openSpool(settings, device: "board-b")
        #expect(!existed && setAside == dir.file("spool.from-board-a") && spool.unacknowledgedCount == 0)
        #expect(try String(contentsOfFile: dir.file("spool/device"), encoding: .utf8) == "board-b\n")
        #expect(try String(contentsOfFile: dir.file("spool.from-board-a/device"), encoding: .utf8) == "board-a\n")
        let kept = try Spool(directory: dir.file("spool.from-board-a"))
        #expect(kept.unacknowledgedCount == 5)
    }

    @Test func aSpoolFromAnEarlierVersionIsAdoptedAndAHostileOwnerFileIsForeign() throws {
        let dir = TemporaryDirectory("spool-owner")
        var settings = SpoolSettings()
        settings.dir = dir.file("spool")
        do {
            let spool = try Spool(directory: settings.dir) // no device file, as before this version
            _ = try spool.append(Array("old".utf8), timestamp: 1_700_000_000_000)
            try spool.sync()
        }
        do {
            let (spool, _, setAside) = try Delivery.openSpool(settings, device: "board-a")
            #expect(setAside == nil && spool.unacknowledgedCount == 1)
        }
        // A device file that is no device id (a path, bytes): set aside under "unknown", twice.
        for attempt in 1...2 {
            try "../../etc\u{0}\u{7}".write(toFile: dir.file("spool/device"), atomically: true, encoding: .utf8)
            let (_, _, setAside) = try Delivery.openSpool(settings, device: "board-a")
            #expect(setAside == dir.file(attempt == 1 ? "spool.from-unknown" : "spool.from-unknown-2"))
        }
    }
}
