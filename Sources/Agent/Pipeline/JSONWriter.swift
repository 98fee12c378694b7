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

    /// A member's name known at compile time, copied whole: `"name":`. (A string literal picks
    /// this one; names made at run time go through `key(named:)`, which escapes.)
    mutating func key(_ name: StaticString) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        let base = bytes.baseAddress!
        if needsComma { base.storeBytes(of: UInt8(ascii: ","), toByteOffset: count, as: UInt8.self); count += 1 }
        base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: count, as: UInt8.self)
        (base + count + 1).copyMemory(from: name.utf8Start, byteCount: length)
        count += length + 1
        base.storeBytes(of: UInt8(ascii: "\""), toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: UInt8(ascii: ":"), toByteOffset: count + 1, as: UInt8.self)
        count += 2
        needsComma = false
    }

    mutating func key(named name: String) {
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
        digits(UInt64(value.magnitude))
        needsComma = true
    }

    /// The decimal digits of `value` (at least `minimumCount`, zero-padded), counted first and then
    /// written in place from the last, two at a time from a table of the hundred pairs.
    private mutating func digits(_ value: UInt64, minimumCount: Int = 1) {
        // The digit count from the bit length (log10(2) is about 1233/4096), corrected by one compare.
        let bits = 64 - value.leadingZeroBitCount
        var length = (bits &* 1233) >> 12
        if value >= JSONWriter.powers[length] { length += 1 } // length is at most 19 here
        length = max(max(length, 1), minimumCount)
        reserve(length)
        let out = bytes.baseAddress! + count
        let pairs = JSONWriter.digitPairs.utf8Start
        var rest = value
        var i = length
        while i >= 2 {
            let pair = Int(truncatingIfNeeded: rest % 100) &* 2
            rest /= 100
            i -= 2
            out.storeBytes(of: pairs[pair], toByteOffset: i, as: UInt8.self)
            out.storeBytes(of: pairs[pair + 1], toByteOffset: i + 1, as: UInt8.self)
        }
        if i == 1 { out.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10), as: UInt8.self) }
        count += length
    }

    /// 10^0 ... 10^19, as a literal: the compiler lays it out at build time (no lazy set-up per use).
    private static let powers: [UInt64] = [
        1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000,
        1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000, 10_000_000_000_000_000,
        100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ]

    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    /// A number with a fixed number of decimals (`decimals` <= 9); NaN and infinities become null.
    mutating func number(_ value: Double, decimals: Int) {
        guard value.isFinite else { separator(); literal("null"); return }
        let decimals = min(max(decimals, 0), 9)
        let scale = JSONWriter.powers[decimals]
        let scaled = (value * Double(scale)).rounded()
        guard abs(scaled) < 9e18 else { shortest(value); return } // beyond Int64: no fixed decimals
        let whole = Int64(scaled)
        separator()
        if whole < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = whole.magnitude
        guard decimals > 0 else { digits(magnitude); needsComma = true; return }
        // All the digits at once (at least one before the point), then the last `decimals` moved
        // up by one to make room for the point.
        digits(magnitude, minimumCount: decimals + 1)
        reserve(1)
        let end = bytes.baseAddress! + count
        for i in 0..<decimals { (end - i).storeBytes(of: (end - i - 1).load(as: UInt8.self), as: UInt8.self) }
        (end - decimals).storeBytes(of: UInt8(ascii: "."), as: UInt8.self)
        count += 1
        needsComma = true
    }

    mutating func beginArray() { separator(); byte(UInt8(ascii: "[")); needsComma = false }
    mutating func endArray() { byte(UInt8(ascii: "]")); needsComma = true }

    /// `true`, `false` or `null`.
    mutating func literal(_ text: StaticString) {
        separator()
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        needsComma = true
    }

    /// Already-encoded JSON (a nested writer's output).
    mutating func raw(_ json: UnsafeRawBufferPointer) {
        separator()
        append(json)
        needsComma = true
    }

    /// Bytes outside the JSON grammar, copied whole (the spool record's header).
    mutating func rawBytes(_ raw: UnsafeRawBufferPointer) { append(raw) }

    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: literal("null")
        case .bool(let b): if b { literal("true") } else { literal("false") }
        case .number(let n): if n == n.rounded() && abs(n) < 1e15 { integer(Int64(n)) } else { shortest(n) }
        case .string(let s): string(s)
        case .array(let items): beginArray(); for item in items { value(item) }; endArray()
        case .object(let members):
            beginObject()
            for (k, item) in members.sorted(by: { $0.key < $1.key }) { key(named: k); value(item) }
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

    @inline(__always)
    private mutating func separator() {
        if needsComma { byte(UInt8(ascii: ",")); needsComma = false }
    }

    private mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        (bytes.baseAddress! + count).copyMemory(from: source, byteCount: raw.count)
        count += raw.count
    }

    @inline(__always)
    private mutating func byte(_ b: UInt8) {
        reserve(1)
        bytes.baseAddress!.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Room for `n` more bytes: the buffer doubles when it must (rare: it is sized for a reading).
    @inline(__always)
    private mutating func reserve(_ n: Int) {
        guard count + n > bytes.count else { return }
        grow(to: count + n)
    }

    private mutating func grow(to needed: Int) {
        var size = max(bytes.count, 16)
        while size < needed { size *= 2 }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
        bytes.deallocate()
        bytes = bigger
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
