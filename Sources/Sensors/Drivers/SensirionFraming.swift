import Hardware

/// Helpers shared by chips that take 8- or 16-bit commands and answer with CRC-checked words.
extension I2CBus {
    /// Sends a 1-, 2- or 3-byte command; the bytes live on the stack (no allocation per reading).
    func command(_ address: UInt8, _ a: UInt8) throws { try command(address, bytes: (a), count: 1) }
    func command(_ address: UInt8, _ a: UInt8, _ b: UInt8) throws { try command(address, bytes: (a, b), count: 2) }
    func command(_ address: UInt8, _ a: UInt8, _ b: UInt8, _ c: UInt8) throws { try command(address, bytes: (a, b, c), count: 3) }

    private func command<T>(_ address: UInt8, bytes: T, count: Int) throws {
        try withUnsafeBytes(of: bytes) { raw in
            try onBus { () throws(I2CError) in try write(address: address, UnsafeRawBufferPointer(rebasing: raw[0..<count])) }
        }
    }

    func read(_ address: UInt8, into buffer: inout [UInt8], count: Int) throws {
        try buffer.withUnsafeMutableBytes { raw in
            try onBus { () throws(I2CError) in try read(address: address, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])) }
        }
    }
}

/// Checks the CRC after each 2-byte word (Sensirion's framing: MSB, LSB, CRC) and returns the words.
func sensirionWords(_ bytes: [UInt8], words: Int, what: String) throws(SensorError) -> (UInt16, UInt16) {
    var values: (UInt16, UInt16) = (0, 0)
    for i in 0..<words {
        let crc = bytes.withUnsafeBytes { crc8Sensirion(UnsafeRawBufferPointer(rebasing: $0[(3 * i)..<(3 * i + 2)])) }
        guard crc == bytes[3 * i + 2] else { throw .checksum(what: "\(what) word \(i)", received: bytes[3 * i + 2], computed: crc) }
        let word = UInt16(bytes[3 * i]) << 8 | UInt16(bytes[3 * i + 1])
        if i == 0 { values.0 = word } else { values.1 = word }
    }
    return values
}
