import MQTT
import Syscalls

/// Command requests between their arrival and their run, as a value with no I/O.
///
/// A request is acknowledged to the broker as it arrives (the session writes its PUBACK) and runs
/// only once that PUBACK has been handed to the kernel (`acknowledgementsSent`), so a request that
/// crashed the agent would not come back after the restart to crash it again. The broker redelivers
/// a request whose PUBACK it did not get with DUP set; one whose packet id and content match a
/// request seen lately is recognised and not run again (`gpio-toggle` twice is not idempotent).
/// Requests wait in order, bounded in count and bytes: over the byte budget a request is kept
/// without its payload and answered "busy"; over the count it is dropped and counted.
struct CommandInbox {
    struct Request {
        let command: String
        /// The JSON request, nil when it was not kept (see `refusal`).
        let payload: [UInt8]?
        fileprivate(set) var refusal: Refusal?
        /// Where its reply goes, until when it may run (5.0).
        var route = ReplyRoute.none
        fileprivate(set) var ready = false

        init(command: String, payload: [UInt8]?, refusal: Refusal?, route: ReplyRoute = .none) {
            self.command = command
            self.payload = payload
            self.refusal = refusal
            self.route = route
        }
    }

    enum Refusal: Equatable {
        case tooLarge(bytes: Int, limit: Int)
        case busy(waiting: Int)
        /// The broker kept it (retain): it comes again with every subscription, so it is never run.
        case retained
        /// Its Message Expiry Interval was spent before it could run.
        case expired
        /// Its Response Topic points at this device's own topics or a `$` topic.
        case responseTopicNotAllowed(String)
        /// Its Response Topic or Correlation Data is over the limit.
        case routeTooLarge(limit: Int)

        var message: String {
            switch self {
            case .retained:
                "a retained request is not run (it would run again on every connect); clear it with an empty retained message"
            case .tooLarge(let bytes, let limit): "request of \(bytes) bytes is larger than the limit of \(limit)"
            case .busy(let waiting): "busy: \(waiting) requests are waiting; send it again later"
            case .expired: "expired: its message expiry interval was spent before it could run; not run"
            case .routeTooLarge(let limit): "its response topic or correlation data is over \(limit) bytes; not run"
            case .responseTopicNotAllowed(let topic):
                "response topic \(String(topic.prefix(200)).debugDescription) is not allowed: it is one of this device's own topics (outside reply/) or a $ topic; not run"
            }
        }
    }

    enum Arrival: Equatable { case queued, duplicate, dropped }

    static let maxWaiting = 1024
    static let maxWaitingBytes = 256 * 1024
    static let recentCount = 64

    let maxRequestBytes: Int
    /// Commands that take more (`config-set`: a whole configuration).
    let largerLimits: [String: Int]
    private var waiting: [Request] = []
    private var head = 0
    private var waitingBytes = 0
    /// (packet id, content digest) of the latest requests, oldest overwritten first.
    private var recent: [(packetID: UInt16, digest: UInt64)] = []
    private var recentNext = 0
    private(set) var received: UInt64 = 0
    private(set) var duplicates: UInt64 = 0
    private(set) var dropped: UInt64 = 0

    init(maxRequestBytes: Int, largerLimits: [String: Int] = [:]) {
        self.maxRequestBytes = maxRequestBytes
        self.largerLimits = largerLimits
        waiting.reserveCapacity(64)
        recent.reserveCapacity(CommandInbox.recentCount)
    }

    var count: Int { waiting.count - head }
    var isEmpty: Bool { count == 0 }
    /// Whether the next request may run now.
    var nextIsReady: Bool { head < waiting.count && waiting[head].ready }

    /// A request arrived. `size` is the payload's whole size, which exceeds `payload.count` when
    /// the session skipped an oversized message (payload empty). `retained`: the broker sent it
    /// from its store for a new subscription, not as it was published.
    mutating func receive(
        command: String, payload: UnsafeRawBufferPointer, size: Int, packetID: UInt16, dup: Bool, retained: Bool = false,
        route: ReplyRoute = .none
    ) -> Arrival {
        received += 1
        if packetID != 0 {
            let digest = CommandInbox.digest(command, payload, size: size)
            if dup, recent.contains(where: { $0.packetID == packetID && $0.digest == digest }) {
                duplicates += 1
                return .duplicate
            }
            remember(packetID: packetID, digest: digest)
        }
        guard count < CommandInbox.maxWaiting else {
            dropped += 1
            return .dropped
        }
        var request: Request
        if let refusal = route.refusal {
            request = Request(command: command, payload: nil, refusal: refusal)
        } else if retained {
            request = Request(command: command, payload: nil, refusal: .retained)
        } else if size > largerLimits[command, default: maxRequestBytes] {
            let limit = largerLimits[command, default: maxRequestBytes]
            request = Request(command: command, payload: nil, refusal: .tooLarge(bytes: size, limit: limit))
        } else if waitingBytes + size > CommandInbox.maxWaitingBytes {
            request = Request(command: command, payload: nil, refusal: .busy(waiting: count))
        } else {
            request = Request(command: command, payload: Array(payload), refusal: nil)
            waitingBytes += size
        }
        request.route = route
        waiting.append(request)
        return .queued
    }

    /// Every PUBACK written so far reached the kernel (or the connection is gone, and with it any
    /// chance to acknowledge): what has arrived may run.
    mutating func acknowledgementsSent() {
        for i in head..<waiting.count { waiting[i].ready = true }
    }

    /// The next request to run, if it is ready; refused as expired if its expiry passed by `now`.
    mutating func next(now: Nanoseconds = MonotonicClock.now()) -> Request? {
        guard nextIsReady else { return nil }
        var request = waiting[head]
        if request.refusal == nil, let expiresAt = request.route.expiresAt, now >= expiresAt { request.refusal = .expired }
        head += 1
        waitingBytes -= request.payload?.count ?? 0
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: true); head = 0
        } else if head >= 256 {
            waiting.removeFirst(head); head = 0
        }
        return request
    }

    private mutating func remember(packetID: UInt16, digest: UInt64) {
        if let i = recent.firstIndex(where: { $0.packetID == packetID }) { recent[i].digest = digest; return }
        if recent.count < CommandInbox.recentCount { recent.append((packetID, digest)); return }
        recent[recentNext] = (packetID, digest)
        recentNext = (recentNext + 1) % CommandInbox.recentCount
    }

    /// FNV-1a over the command, the payload and its size.
    static func digest(_ command: String, _ payload: UnsafeRawBufferPointer, size: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ b: UInt8) { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        for b in command.utf8 { mix(b) }
        mix(0)
        for b in payload { mix(b) }
        withUnsafeBytes(of: UInt64(size).littleEndian) { for b in $0 { mix(b) } }
        return hash
    }
}
