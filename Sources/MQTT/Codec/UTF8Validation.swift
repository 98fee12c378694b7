/// MQTT 3.1.1 section 1.5.3: strings are well-formed UTF-8 (RFC 3629) with no surrogate code points
/// (MQTT-1.5.3-1) and no U+0000 (MQTT-1.5.3-2). Works on raw bytes so decoding allocates nothing.
enum MQTTUTF8 {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                if b0 == 0 { return false }
                i += 1
                continue
            }
            let length: Int
            var scalar: UInt32
            switch b0 {
            case 0xC2...0xDF: length = 2; scalar = UInt32(b0 & 0x1F)
            case 0xE0...0xEF: length = 3; scalar = UInt32(b0 & 0x0F)
            case 0xF0...0xF4: length = 4; scalar = UInt32(b0 & 0x07)
            default: return false // continuation byte, overlong lead (C0, C1) or beyond U+10FFFF
            }
            guard i + length <= n else { return false }
            for k in 1..<length {
                let b = bytes[i + k]
                guard b & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(b & 0x3F)
            }
            switch length {
            case 3 where scalar < 0x800: return false // overlong
            case 3 where (0xD800...0xDFFF).contains(scalar): return false // surrogate
            case 4 where scalar < 0x10000 || scalar > 0x10FFFF: return false
            default: break
            }
            i += length
        }
        return true
    }

    static func isValid(_ string: String) -> Bool {
        // Swift strings are always well-formed UTF-8 without surrogates; only U+0000 remains.
        !string.utf8.contains(0)
    }
}
