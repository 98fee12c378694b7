import Foundation
import Testing

@testable import Agent

/// The command path's pure parts: what arrives, what runs, what is refused, with no broker.
@Suite("Command inbox and arguments")
struct CommandInboxTests {
    func receive(_ inbox: inout CommandInbox, _ command: String, _ payload: String, id: UInt16 = 1, dup: Bool = false, size: Int? = nil)
        -> CommandInbox.Arrival
    {
        let bytes = Array(payload.utf8)
        return bytes.withUnsafeBytes { inbox.receive(command: command, payload: $0, size: size ?? bytes.count, packetID: id, dup: dup) }
    }

    @Test func nothingRunsBeforeItsAcknowledgementIsSent() {
        var inbox = CommandInbox(maxRequestBytes: 4096)
        #expect(receive(&inbox, "ping", "{}") == .queued)
        #expect(inbox.next() == nil) // its PUBACK is not on its way yet
        inbox.acknowledgementsSent()
        #expect(receive(&inbox, "status", "{}", id: 2) == .queued)
        #expect(inbox.next()?.command == "ping")
        #expect(inbox.next() == nil) // status arrived after the PUBACKs went out
        inbox.acknowledgementsSent()
        #expect(inbox.next()?.command == "status")
        #expect(inbox.isEmpty)
    }

    @Test func aRetainedRequestIsAnsweredNotRun() throws {
        var inbox = CommandInbox(maxRequestBytes: 4096)
        let bytes = Array(#"{"line":"relay"}"#.utf8)
        let arrival = bytes.withUnsafeBytes {
            inbox.receive(command: "gpio-toggle", payload: $0, size: bytes.count, packetID: 3, dup: false, retained: true)
        }
        #expect(arrival == .queued) // queued for its reply
        inbox.acknowledgementsSent()
        let next = inbox.next()
        let request = try #require(next)
        #expect(request.payload == nil)
        #expect(request.refusal == .retained)
        #expect(request.refusal?.message.contains("retained") == true)
    }

    @Test func aRedeliveryIsRecognisedAndNotRunAgain() {
        var inbox = CommandInbox(maxRequestBytes: 4096)
        #expect(receive(&inbox, "gpio-toggle", #"{"line":"relay"}"#, id: 9) == .queued)
        // The broker did not get the PUBACK and sends it again after the reconnect, with DUP.
        #expect(receive(&inbox, "gpio-toggle", #"{"line":"relay"}"#, id: 9, dup: true) == .duplicate)
        // Without DUP, the same id and content is a new request (the id was freed and reused).
        #expect(receive(&inbox, "gpio-toggle", #"{"line":"relay"}"#, id: 9) == .queued)
        // DUP with other content or another id is a message not seen before.
        #expect(receive(&inbox, "gpio-toggle", #"{"line":"lamp"}"#, id: 9, dup: true) == .queued)
        #expect(receive(&inbox, "gpio-toggle", #"{"line":"relay"}"#, id: 10, dup: true) == .queued)
        #expect(inbox.duplicates == 1)
        #expect(inbox.count == 4)
        // QoS 0 (id 0) has no redeliveries to recognise.
        #expect(receive(&inbox, "ping", "{}", id: 0, dup: true) == .queued)
    }

    @Test func oversizedAndOverBudgetRequestsAreAnsweredNotDropped() {
        var inbox = CommandInbox(maxRequestBytes: 4096)
        #expect(receive(&inbox, "ping", "", size: 100_000) == .queued)
        for i in 0..<70 { _ = receive(&inbox, "ping", String(repeating: " ", count: 4000), id: UInt16(i + 2)) }
        inbox.acknowledgementsSent()
        #expect(inbox.next()?.refusal == .tooLarge(bytes: 100_000, limit: 4096))
        var busy = 0
        while let request = inbox.next() { if case .busy? = request.refusal { busy += 1 } else { #expect(request.payload?.count == 4000) } }
        #expect(busy == 70 - CommandInbox.maxWaitingBytes / 4000)
    }

    @Test func pastTheCountLimitRequestsAreDroppedAndCounted() {
        var inbox = CommandInbox(maxRequestBytes: 4096)
        for _ in 0..<CommandInbox.maxWaiting { #expect(receive(&inbox, "ping", "", id: 0) == .queued) }
        #expect(receive(&inbox, "ping", "", id: 0) == .dropped)
        #expect(inbox.dropped == 1)
    }

    @Test func numbersAreRangeCheckedBeforeConversion() throws {
        func arguments(_ json: String) -> CommandArguments {
            guard case .object(let fields) = try! JSONParser.parse(Array(json.utf8)) else { fatalError() }
            return CommandArguments(command: "set-interval", fields: fields)
        }
        let range: ClosedRange<UInt64> = 10_000_000...86_400_000_000_000
        // Each of these trapped in ConfigDuration's conversion before the range check.
        for bad in [#"{"interval":1e308}"#, #"{"interval":2e10}"#, #"{"interval":"infs"}"#, #"{"interval":-1}"#, #"{"interval":"1e300s"}"#]
        {
            #expect(throws: CommandFailure.self, "\(bad)") { try arguments(bad).duration("interval", in: range) }
        }
        #expect(try arguments(#"{"interval":"500ms"}"#).duration("interval", in: range).nanoseconds == 500_000_000)
        #expect(try arguments(#"{"interval":2.5}"#).duration("interval", in: range).nanoseconds == 2_500_000_000)
        #expect(throws: CommandFailure.self) { try arguments(#"{"interval":1e30}"#).integer("interval", in: 1...60_000) }
        #expect(throws: CommandFailure.self) { try arguments(#"{"interval":1.5}"#).integer("interval", in: 1...60_000) }
        #expect(try arguments(#"{"interval":60000}"#).integer("interval", in: 1...60_000) == 60_000)
    }

    /// The table is the one list: the error reply lists it, and the README's table names the same
    /// commands with the same fields.
    @Test func theCommandListComesFromTheTable() throws {
        #expect(Set(CommandSpec.names).count == CommandSpec.table.count)
        let readme = try String(contentsOfFile: repositoryRoot() + "/README.md", encoding: .utf8)
        let table = readme.components(separatedBy: "| command | fields | result |")[1].components(separatedBy: "\n\n")[0]
        var documented: [String] = []
        var fields: Set<String> = []
        for row in table.split(separator: "\n").dropFirst(1) {
            let cells = row.split(separator: "|", omittingEmptySubsequences: false)
            guard cells.count > 2 else { continue }
            documented += cells[1].split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            fields.formUnion(
                cells[2].split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
                    .filter { $0.allSatisfy { $0.isLetter || $0 == "_" } }) // names, not examples like "500ms"
        }
        #expect(documented == CommandSpec.names)
        #expect(fields == CommandSpec.table.reduce(into: Set<String>()) { $0.formUnion($1.fields) })
    }

    @Test func hugeNumbersAreWrittenNotTrapped() {
        // {"id":1e300} trapped in JSONWriter.number (Int64 conversion) on every restart.
        for (value, text) in [(1e300, "1e+300"), (-1e19, "-1e+19"), (0.1, "0.1"), (7, "7"), (1e15, "1000000000000000.0")] {
            var writer = JSONWriter(capacity: 8)
            defer { writer.deallocate() }
            writer.value(.number(value))
            #expect(String(decoding: writer.view, as: UTF8.self) == text)
        }
        var writer = JSONWriter(capacity: 8)
        defer { writer.deallocate() }
        writer.number(1e300, decimals: 2)
        #expect(String(decoding: writer.view, as: UTF8.self) == "1e+300")
    }

    @Test func repeatedConditionsAreLoggedOncePerEpisode() {
        var lines: [String] = []
        let log = RepeatedLog(write: { lines.append($0) })
        for i in 0..<10_000 { log.note("unknown PUBACK", "broker sent PUBACK for \(i)", now: UInt64(i) * 1000) }
        #expect(lines == ["broker sent PUBACK for 0"])
        log.tick(now: RepeatedLog.period)
        #expect(lines.last == "unknown PUBACK: 9999 more in the last 60 s")
        log.tick(now: 2 * RepeatedLog.period) // a quiet period ends the episode, with its count
        #expect(lines.count == 3)
        #expect(lines.last == "unknown PUBACK: over, 10000 in all")
        #expect(log.nextDeadline == nil)
        log.note("unknown PUBACK", "again", now: 3 * RepeatedLog.period)
        #expect(lines.last == "again")
        // A tick with a time taken before the note (earlier in the same loop turn) ends nothing:
        // the episode goes on, and its next occurrence is counted, not written again.
        log.note("disk", "first", now: 4 * RepeatedLog.period + 5)
        log.tick(now: 4 * RepeatedLog.period + 1)
        log.note("disk", "second", now: 4 * RepeatedLog.period + 6)
        #expect(lines.suffix(2) == ["again", "first"], "\(lines)")
    }

    @Test func recordNamesNeverReachTheEventBit() {
        let long = String(repeating: "n", count: 200)
        let record = AgentRecord.encode(name: long, event: false, json: "{}")
        #expect(record[0] == UInt8(AgentRecord.maxNameBytes))
        let decoded = record.withUnsafeBytes { AgentRecord($0) }
        #expect(decoded?.event == false)
        #expect(decoded?.name.count == AgentRecord.maxNameBytes)
        #expect(TopicLevel.maxBytes <= AgentRecord.maxNameBytes)
    }
}
