import MQTT

/// Commands on `<prefix>/<device>/cmd/<command>`: a JSON object with an optional `id`. Every
/// request, valid or not, gets exactly one reply on `<prefix>/<device>/reply/<command>` (or, under
/// MQTT 5.0, on its Response Topic with its Correlation Data: ReplyRoute.swift):
/// `{"id":…,"ok":true,"result":{…}}` or `{"id":…,"ok":false,"error":"…"}`. No command runs a shell.
///
/// The command component. A request waits in its inbox (CommandInbox.swift) until its PUBACK is
/// on its way, then runs when the in-flight window has room for its reply: replies wait for space
/// rather than being dropped, and one that cannot be sent at all is logged and counted. What a
/// command does is a call on its `CommandTarget` (the wiring), from the table in CommandTable.swift;
/// answering a request (`answer`) is separate from sending the reply, so the rules are unit tests.
final class CommandRunner {
    static let maxRequestBytes = 4096
    /// `config-set` and a group's configuration: a configuration of up to 64 KiB as a JSON string
    /// (escapes make it longer), and its signature.
    static let maxConfigRequestBytes = 96 * 1024

    /// Counts for the metrics message.
    struct CommandCounts {
        var replied: UInt64 = 0
        var replyFailures: UInt64 = 0
    }

    private let client: MQTTClient
    private let topics: Topics
    private let repeated: RepeatedLog
    private(set) var inbox = CommandInbox(
        maxRequestBytes: CommandRunner.maxRequestBytes, largerLimits: ["config-set": CommandRunner.maxConfigRequestBytes])
    /// A reply that found no room in the window; sent before any other request runs.
    private(set) var heldReply: (topic: String, payload: [UInt8], properties: MessageProperties)?
    private(set) var counts = CommandCounts()

    init(client: MQTTClient, topics: Topics, repeated: RepeatedLog) {
        self.client = client
        self.topics = topics
        self.repeated = repeated
    }

    /// Nothing waits: no request, no held reply (a reload waits for this).
    var isIdle: Bool { inbox.isEmpty && heldReply == nil }

    /// The metrics message's `commands` object.
    func writeCounts(into json: inout JSONWriter) {
        json.key("commands"); json.beginObject()
        json.key("received"); json.integer(inbox.received)
        json.key("duplicates"); json.integer(inbox.duplicates)
        json.key("dropped"); json.integer(inbox.dropped)
        json.key("reply_failures"); json.integer(counts.replyFailures)
        json.endObject()
    }

    /// Forgets a held reply (the fuzz target, which never connects, runs one request per input).
    func dropHeldReply() { heldReply = nil }

    /// Whether a message on `topic` is a request (under the command prefix).
    func accepts(topic: UnsafeRawBufferPointer) -> Bool { topic.starts(with: topics.commandPrefix) }

    /// A request arrived (or an oversized one was skipped by the session, with `size` its size).
    func receive(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, size: Int, packetID: UInt16, dup: Bool, retained: Bool = false,
        properties: Properties = .none
    ) {
        guard topic.starts(with: topics.commandPrefix) else { return }
        let command = String(decoding: topic[topics.commandPrefix.count...], as: UTF8.self)
        let route = properties.isEmpty ? ReplyRoute.none : ReplyRoute(properties, topics: topics, now: MonotonicClock.now())
        switch inbox.receive(
            command: command, payload: payload, size: size, packetID: packetID, dup: dup, retained: retained, route: route)
        {
        case .queued: break
        case .duplicate: Log.info("command \(command): a redelivery (DUP) of request \(packetID), already taken; not run again")
        case .dropped:
            repeated.note("commands-dropped", "command \(command) dropped: \(CommandInbox.maxWaiting) requests are already waiting")
        }
    }

    /// Runs the requests whose PUBACKs have been sent, while their replies find room (and no status
    /// waits, which goes first).
    func run(statusPending: Bool, on target: some CommandTarget) {
        if client.session.outbound.isEmpty || !client.isConnected { inbox.acknowledgementsSent() }
        while !statusPending, client.session.canPublishReliably, heldReply == nil, let request = inbox.next() {
            var reply = JSONWriter(capacity: 512)
            defer { reply.deallocate() }
            let topic = answer(request, on: target, into: &reply)
            let properties = request.route.properties(topics: topics)
            if !sendReply(topic: topic, reply.view, properties) { heldReply = (topic, Array(reply.view), properties) }
        }
        if let held = heldReply, sendReply(topic: held.topic, held.payload, held.properties) { heldReply = nil }
    }

    /// Whether the loop must come round again at once: ready requests and room for their replies.
    func isReady(statusPending: Bool) -> Bool {
        inbox.nextIsReady && !statusPending && client.session.canPublishReliably && heldReply == nil
    }

    /// Runs one request on `target` and writes its reply: exactly one, `ok` or not. Returns the
    /// reply's topic.
    func answer(_ request: CommandInbox.Request, on target: some CommandTarget, into reply: inout JSONWriter) -> String {
        var id: JSONValue = .null
        do throws(CommandFailure) {
            if let refusal = request.refusal { throw CommandFailure(refusal.message) }
            let payload = request.payload ?? []
            let parsed: JSONValue
            do { parsed = payload.isEmpty ? .object([:]) : try JSONParser.parse(payload) } catch { throw CommandFailure("\(error)") }
            guard case .object(let fields) = parsed else { throw CommandFailure("a request is a JSON object, not \(parsed.typeName)") }
            if let given = fields["id"] {
                switch given {
                case .string, .number, .null: id = given
                default: throw CommandFailure("id must be a string or a number")
                }
            }
            guard let spec = CommandSpec.table.first(where: { $0.name == request.command }) else {
                throw CommandFailure("unknown command '\(request.command)'; commands: \(CommandSpec.names.joined(separator: ", "))")
            }
            let arguments = CommandArguments(command: spec.name, fields: fields)
            try arguments.allowOnly(spec.fields)
            var result = JSONWriter(capacity: 512)
            defer { result.deallocate() }
            result.beginObject()
            do { try spec.run(target, arguments, &result) } catch let failure as CommandFailure { throw failure } catch {
                throw CommandFailure("\(error)")
            }
            result.endObject()
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("true")
            reply.key("result"); reply.raw(result.view)
            reply.endObject()
        } catch {
            CommandRunner.refusal(error.message, id: id, into: &reply)
            Log.info("command \(request.command) refused: \(error.message)")
        }
        let topic = request.route.topic(for: request.command, topics: topics)
        let properties = request.route.properties(topics: topics)
        if let size = client.session.overPacketLimit(topicLength: topic.utf8.count, payloadLength: reply.view.count, properties: properties)
        {
            // A reply the broker would close the connection on: the request still gets its answer.
            let limit = client.session.limits.maxPacketSize ?? 0
            let name = client.session.limits.name
            CommandRunner.refusal("the reply (\(size) bytes) is over \(name) (\(limit) bytes)", id: id, into: &reply)
            Log.warning("command \(request.command): its reply of \(size) bytes is over \(name); answered with an error")
        }
        return topic
    }

    /// `{"id":…,"ok":false,"error":"…"}`, in place of whatever `reply` held.
    private static func refusal(_ message: String, id: JSONValue, into reply: inout JSONWriter) {
        reply.reset()
        reply.beginObject()
        reply.key("id"); reply.value(id)
        reply.key("ok"); reply.literal("false")
        reply.key("error"); reply.string(message)
        reply.endObject()
    }

    /// Publishes a reply: true when it was taken or can never be (logged, counted), false when the
    /// window has no room for it yet.
    private func sendReply(topic: String, _ payload: UnsafeRawBufferPointer, _ properties: MessageProperties) -> Bool {
        do {
            try client.publish(topic: topic, payload: payload, qos: .atLeastOnce, properties: properties)
            counts.replied += 1
            return true
        } catch .windowFull {
            return false
        } catch {
            counts.replyFailures += 1
            repeated.note("reply-failed", "a reply on \(topic.prefix(200)) cannot be sent: \(error)")
            return true
        }
    }

    private func sendReply(topic: String, _ payload: [UInt8], _ properties: MessageProperties) -> Bool {
        payload.withUnsafeBytes { sendReply(topic: topic, $0, properties) }
    }
}
