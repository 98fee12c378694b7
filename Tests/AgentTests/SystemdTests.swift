import Foundation
import TestSupport
import Testing

@Suite("systemd integration", .serialized)
struct SystemdTests {
    /// A datagram socket standing in for systemd's notification socket.
    final class NotifySocket {
        let path: String
        let fd: Int32
        var messages: [String] = []

        init(in directory: TemporaryDirectory) {
            path = directory.file("notify")
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }

        deinit { close(fd) }

        func collect(seconds: Double) {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 50) == 1 else { continue }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { messages.append(String(decoding: buffer[..<n], as: UTF8.self)) }
            }
        }
    }

    @Test func notifiesReadyStatusWatchdogAndStopping() throws {
        let broker = try Mosquitto()
        defer { broker.stop() }
        let agent = try AgentProcess(brokerPort: broker.port)
        let notify = NotifySocket(in: agent.directory)
        try agent.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        notify.collect(seconds: 1.5)
        agent.stop(SIGTERM)
        notify.collect(seconds: 0.3)
        let all = notify.messages.joined(separator: "\n")
        #expect(notify.messages.first?.hasPrefix("READY=1") == true)
        #expect(all.contains("STATUS=connected to mqtt://127.0.0.1:\(broker.port)"))
        // Every 100 ms (half of WATCHDOG_USEC) for 1.5 s: allow for start-up and a slow machine.
        #expect(notify.messages.filter { $0 == "WATCHDOG=1" }.count >= 8)
        #expect(notify.messages.last == "STOPPING=1")
    }

    @Test func unitIsHardenedTo2OrBetter() throws {
        let unit = repositoryRoot() + "/systemd/edge-agent.service"
        let output = try run("systemd-analyze", ["security", "--offline=true", "--no-pager", unit])
        let line = output.split(separator: "\n").first { $0.contains("Overall exposure level") } ?? ""
        let score = line.split(separator: " ").compactMap { Double($0) }.first
        #expect(score != nil, "no rating in: \(output.suffix(300))")
        #expect((score ?? 10) <= 2.0, "rated \(score ?? -1)")
    }
}
