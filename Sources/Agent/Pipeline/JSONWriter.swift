/// Writes compact JSON into a reused byte buffer: no allocation per reading, no Foundation.
struct JSONWriter {
    private(set) var bytes: UnsafeMutableRawBufferPointer
    private(set) var count = 0
    private var needsComma = false

    init(capacity: Int = 4096) {
        bytes = .allocate(byteCount: capacity, alignment: 8)
    }

    func deallocate() { bytes.deallocate() }

    var view: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<count]) }

    mutating func reset() { count = 0; needsComma = false }

    mutating func beginObject() { separator(); byte(UInt8(ascii: "{")); needsComma = false }
    mutating func endObject() { byte(UInt8(ascii: "}")); needsComma = true }

    mutating func key(_ name: StaticString) {
        separator()
        byte(UInt8(ascii: "\""))
        name.withUTF8Buffer { for b in $0 { byte(b) } }
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func key(_ name: String) {
        separator()
        string(name)
        byte(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) {
        separator()
        byte(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            for b in utf8 {
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte(UInt8(ascii: "\\")); byte(b)
                case 0x0A: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
                case 0..<0x20:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    for c in "\\u00".utf8 { byte(c) }
                    byte(hex[Int(b >> 4)]); byte(hex[Int(b & 0xF)])
                default: byte(b)
                }
            }
        }
        byte(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func integer<T: BinaryInteger>(_ value: T) {
        separator()
        if value < 0 { byte(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[n] = UInt8(ascii: "0") + UInt8(magnitude % 10); magnitude /= 10; n += 1 } while magnitude > 0
            while n > 0 { n -= 1; byte(d[n]) }
        }
        needsComma = true
    }

    /// A number with a fixed number of decimals (`decimals` <= 9); NaN and infinities become null.
    mutating func number(_ value: Double, decimals: Int) {
        guard value.isFinite else { separator(); for c in "null".utf8 { byte(c) }; needsComma = true; return }
        var scale: Double = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard abs(scaled) < 9e18 else { shortest(value); return } // beyond Int64: no fixed decimals
        let whole = Int64(scaled)
        let negative = whole < 0
        let magnitude = whole.magnitude
        let divisor = UInt64(scale)
        separator()
        if negative { byte(UInt8(ascii: "-")) }
        needsComma = false
        integer(magnitude / divisor)
        if decimals > 0 {
            byte(UInt8(ascii: "."))
            var fraction = magnitude % divisor
            var place = divisor / 10
            while place > 0 { byte(UInt8(ascii: "0") + UInt8(fraction / place)); fraction %= place; place /= 10 }
        }
        needsComma = true
    }

    mutating func beginArray() { separator(); byte(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { byte(UInt8(ascii: "]")); needsComma = true }

    /// `true`, `false` or `null`.
    mutating func literal(_ text: StaticString) {
        separator()
        text.withUTF8Buffer { for b in $0 { byte(b) } }
        needsComma = true
    }

    /// Already-encoded JSON (a nested writer's output).
    mutating func raw(_ json: UnsafeRawBufferPointer) {
        separator()
        for b in json { byte(b) }
        needsComma = true
    }

    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: literal("null")
        case .bool(let b): if b { literal("true") } else { literal("false") }
        case .number(let n): if n == n.rounded() && abs(n) < 1e15 { integer(Int64(n)) } else { shortest(n) }
        case .string(let s): string(s)
        case .array(let items): beginArray(); for item in items { value(item) }; endArray()
        case .object(let members):
            beginObject()
            for (k, item) in members.sorted(by: { $0.key < $1.key }) { key(k); value(item) }
            endObject()
        }
    }

    /// A finite number in the shortest form that reads back as the same Double (`1e+300`, `0.1`);
    /// rare (ids and numbers beyond Int64), so the String it allocates does not matter.
    private mutating func shortest(_ value: Double) {
        guard value.isFinite else { literal("null"); return }
        separator()
        for c in value.description.utf8 { byte(c) }
        needsComma = true
    }

    /// A byte outside the JSON grammar (the spool record's header).
    mutating func rawByte(_ b: UInt8) { byte(b) }

    private mutating func separator() {
        if needsComma { byte(UInt8(ascii: ",")); needsComma = false }
    }

    private mutating func byte(_ b: UInt8) {
        if count == bytes.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count * 2, alignment: 8)
            bigger.copyMemory(from: UnsafeRawBufferPointer(bytes))
            bytes.deallocate()
            bytes = bigger
        }
        bytes[count] = b
        count += 1
    }
}

/// A number with a fixed count of decimals, exactly as it appears in published payloads (for
/// printing readings on the command line).
public func formatDecimal(_ value: Double, decimals: Int) -> String {
    var writer = JSONWriter(capacity: 64)
    defer { writer.deallocate() }
    writer.number(value, decimals: decimals)
    return String(decoding: writer.view, as: UTF8.self)
}
