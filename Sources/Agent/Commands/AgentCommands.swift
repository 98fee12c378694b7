import MQTT

/// Commands on `<prefix>/<device>/cmd/<command>`: a JSON object with an optional `id`. Every
/// request, valid or not, gets exactly one reply on `<prefix>/<device>/reply/<command>`:
/// `{"id":…,"ok":true,"result":{…}}` or `{"id":…,"ok":false,"error":"…"}`. No command runs a shell.
///
/// A request waits in `commandInbox` (CommandInbox.swift) until its PUBACK is on its way, then
/// runs when the in-flight window has room for its reply: replies wait for space rather than
/// being dropped, and one that cannot be sent at all is logged and counted.
extension Agent {
    static let maxRequestBytes = 4096

    /// Counts for the metrics message.
    struct CommandCounts {
        var replied: UInt64 = 0
        var replyFailures: UInt64 = 0
    }

    /// A request arrived (or an oversized one was skipped by the session, with `size` its size).
    func receiveCommand(
        topic: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, size: Int, packetID: UInt16, dup: Bool, retained: Bool = false
    ) {
        guard topic.starts(with: topics.commandPrefix) else { return }
        let command = String(decoding: topic[topics.commandPrefix.count...], as: UTF8.self)
        switch commandInbox.receive(command: command, payload: payload, size: size, packetID: packetID, dup: dup, retained: retained) {
        case .queued: break
        case .duplicate: Log.info("command \(command): a redelivery (DUP) of request \(packetID), already taken; not run again")
        case .dropped:
            repeated.note("commands-dropped", "command \(command) dropped: \(CommandInbox.maxWaiting) requests are already waiting")
        }
    }

    /// Runs the requests whose PUBACKs have been sent, while their replies find room.
    func runCommands() {
        if client.session.outbound.isEmpty || !client.isConnected { commandInbox.acknowledgementsSent() }
        while ledger.pendingStatus == nil, client.session.canPublishReliably, heldReply == nil, let request = commandInbox.next() {
            run(request)
        }
        if let held = heldReply, sendReply(topic: held.topic, held.payload) { heldReply = nil }
    }

    /// Whether the loop must come round again at once: ready requests and room for their replies.
    var commandsReady: Bool {
        commandInbox.nextIsReady && ledger.pendingStatus == nil && client.session.canPublishReliably && heldReply == nil
    }

    private func run(_ request: CommandInbox.Request) {
        var id: JSONValue = .null
        var reply = JSONWriter(capacity: 512)
        defer { reply.deallocate() }
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
            guard let spec = Agent.commands.first(where: { $0.name == request.command }) else {
                throw CommandFailure("unknown command '\(request.command)'; commands: \(Agent.commandNames.joined(separator: ", "))")
            }
            let arguments = CommandArguments(command: spec.name, fields: fields)
            try arguments.allowOnly(spec.fields)
            var result = JSONWriter(capacity: 512)
            defer { result.deallocate() }
            result.beginObject()
            do { try spec.run(self, arguments, &result) } catch let failure as CommandFailure { throw failure } catch {
                throw CommandFailure("\(error)")
            }
            result.endObject()
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("true")
            reply.key("result"); reply.raw(result.view)
            reply.endObject()
        } catch {
            reply.reset()
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("false")
            reply.key("error"); reply.string(error.message)
            reply.endObject()
            Log.info("command \(request.command) refused: \(error.message)")
        }
        let topic = topics.reply(request.command)
        if let size = client.session.overPacketLimit(topicLength: topic.utf8.count, payloadLength: reply.view.count) {
            // A reply the broker would close the connection on: the request still gets its answer.
            reply.reset()
            reply.beginObject()
            reply.key("id"); reply.value(id)
            reply.key("ok"); reply.literal("false")
            reply.key("error");
            reply.string("the reply (\(size) bytes) is over mqtt.max_packet_size (\(config.mqtt.maxPacketSize.bytes) bytes)")
            reply.endObject()
            Log.warning("command \(request.command): its reply of \(size) bytes is over mqtt.max_packet_size; answered with an error")
        }
        if !sendReply(topic: topic, reply.view) { heldReply = (topic, Array(reply.view)) }
    }

    /// Publishes a reply: true when it was taken or can never be (logged, counted), false when the
    /// window has no room for it yet.
    private func sendReply(topic: String, _ payload: UnsafeRawBufferPointer) -> Bool {
        do {
            try client.publish(topic: topic, payload: payload, qos: .atLeastOnce)
            commandCounts.replied += 1
            return true
        } catch .windowFull {
            return false
        } catch {
            commandCounts.replyFailures += 1
            repeated.note("reply-failed", "a reply on \(topic.prefix(200)) cannot be sent: \(error)")
            return true
        }
    }

    private func sendReply(topic: String, _ payload: [UInt8]) -> Bool {
        payload.withUnsafeBytes { sendReply(topic: topic, $0) }
    }
}
