import Testing

@testable import Agent

/// The writer's bulk paths (whole keys, digits written backwards and moved once, growth) against
/// the plainest spelling of the same output.
@Suite struct JSONWriterTests {
    static func text(_ body: (inout JSONWriter) -> Void, capacity: Int = 8) -> String {
        var writer = JSONWriter(capacity: capacity)
        defer { writer.deallocate() }
        body(&writer)
        return String(decoding: writer.view, as: UTF8.self)
    }

    /// `value` with `decimals` fixed decimals, spelled with String operations.
    static func reference(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let whole = Int64((value * scale).rounded())
        let digits = String(whole.magnitude)
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        let sign = whole < 0 ? "-" : ""
        guard decimals > 0 else { return sign + padded }
        return sign + padded.dropLast(decimals) + "." + padded.suffix(decimals)
    }

    @Test func numbersMatchTheirPlainSpelling() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 0.5, -0.5, 1, -1, 0.001, -0.004, 9.995, 1006.53, 25.08, 123_456_789.123, 8.9e17, -8.9e17]
        for _ in 0..<2000 { values.append(Double.random(in: -1e6...1e6, using: &generator)) }
        for value in values {
            for decimals in 0...9 where abs(value) * pow10(decimals) < 9e18 {
                #expect(Self.text { $0.number(value, decimals: decimals) } == Self.reference(value, decimals), "\(value) \(decimals)")
            }
        }
    }

    func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

    @Test func integersMatchTheirDescription() {
        for value: Int64 in [0, 1, -1, 9, 10, 99, 100, Int64.max, Int64.min + 1, 1_795_592_188_064] {
            #expect(Self.text { $0.integer(value) } == String(value))
        }
        #expect(Self.text { $0.integer(UInt64.max) } == String(UInt64.max))
    }

    @Test func keysOfEveryLengthAreCopiedWhole() {
        let out = Self.text { json in
            json.beginObject()
            json.key("a"); json.integer(1)
            json.key("abcd"); json.integer(4)
            json.key("abcdefg"); json.integer(7)
            json.key("abcdefgh"); json.integer(8)
            json.key("abcdefghijklmnop"); json.integer(16)
            json.key("abcdefghijklmnopq"); json.integer(17)
            json.endObject()
        }
        #expect(out == #"{"a":1,"abcd":4,"abcdefg":7,"abcdefgh":8,"abcdefghijklmnop":16,"abcdefghijklmnopq":17}"#)
    }

    @Test func objectsGrowPastTheirCapacityAndKeepSeparators() {
        let out = Self.text { json in
            json.beginObject()
            json.key("seq"); json.integer(38)
            json.key("ts"); json.integer(1_795_592_188_064)
            json.key("temperature_c"); json.number(18.08, decimals: 2)
            json.key(named: "odd \"name\""); json.string("a\nb")
            json.key("list"); json.beginArray(); json.literal("true"); json.number(.nan, decimals: 2); json.endArray()
            json.endObject()
        }
        #expect(out == #"{"seq":38,"ts":1795592188064,"temperature_c":18.08,"odd \"name\"":"a\nb","list":[true,null]}"#)
    }
}
