import Foundation
import TestSupport
import Testing

/// A full disk under the spool (a tmpfs of 1 MiB, filled by another file), against a real mosquitto.
/// It used to cost live readings, 90 % of a core and a log line per loop turn (1 million lines in
/// 10 s), and the lost readings were counted as sensor errors.
@Suite("A full disk", .serialized)
struct DiskFullTests {
    @Test func readingsFlowWhileTheDiskIsFullAndAreCountedWhenLost() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let observer = try Observer(url: broker.url)
        let agent = try AgentProcess(brokerPort: broker.port, interval: "20ms")
        let spoolDirectory = agent.directory.file("spool")
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
        _ = try run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", spoolDirectory])
        defer { _ = try? run("umount", ["-l", spoolDirectory]) }
        try agent.start()
        #expect(observer.wait { observer.statuses == ["online"] && observer.telemetry("air").count > 10 })

        // Fill the disk to the last byte.
        let filler = open(spoolDirectory + "/filler", O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0xAA, count: 4096)
        while write(filler, block, block.count) > 0 {}
        var byte: UInt8 = 0
        while write(filler, &byte, 1) > 0 {}
        close(filler)

        // Appends fill the spool's write buffer first; once it is full, readings go out from memory.
        let metric = { (key: String) -> Int in observer.metric(key) ?? 0 }
        #expect(observer.wait(seconds: 30) { metric("published_not_stored") > 20 }, "readings published from memory")

        // Now, over four seconds: readings keep arriving, the agent stays idle, the log stays short.
        let pid = try #require(agent.process?.pid)
        let before = (readings: observer.telemetry("air").count, cpu: cpuTicks(pid))
        observer.wait(seconds: 4) { false }
        let readings = observer.telemetry("air").count - before.readings
        let cpu = cpuTicks(pid) - before.cpu
        #expect(readings >= 150, "\(readings) readings of air in 4 s at 20 ms")
        #expect(cpu < 60, "\(cpu) ticks of CPU in 4 s (100 a second is a whole core)")
        let log = agent.log
        #expect(log.contains("cannot write the spool: spool") && log.contains("no space left on the device"), "\(log.suffix(2000))")
        let lines = log.split(separator: "\n").count
        #expect(lines < 30, "\(lines) log lines:\n\(log.suffix(3000))")

        // No broker and no disk: readings are lost, and counted as dropped, not as sensor errors.
        broker.stop()
        sleep(2) // the length of the double fault (a fixed duration, not a wait for an effect)
        try broker.start()
        #expect(observer.wait(seconds: 20) { metric("dropped_not_stored") > 20 }, "dropped readings counted")
        #expect(metric("dropped") >= metric("dropped_not_stored"))
        let sensors = observer.messages.last { $0.topic == "edge/e2e/metrics" }.map(\.payload) ?? ""
        #expect(sensors.contains(#""air":{"readings""#) && !sensors.contains(#""errors":1"#), "\(sensors)")

        // Room again: the spool is written again, and says so.
        unlink(spoolDirectory + "/filler")
        #expect(waitUntil(seconds: 10) { agent.log.contains("the spool is written again") }, "\(agent.log.suffix(2000))")
        let resumed = observer.telemetry("air").count
        #expect(observer.wait { observer.telemetry("air").count > resumed + 20 })
        agent.stop(SIGTERM)
    }

    /// User and system time of a process, in clock ticks (1/100 s).
    func cpuTicks(_ pid: pid_t) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // After the name: state is field 3, utime 14 and stime 15.
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }
}
