import CZlib
import Testing

@testable import Spool

/// The spool's own CRC-32 against zlib's, which wrote every spool before it: any difference would
/// make old spools read as corrupt.
@Suite struct CRC32Tests {
    static func zlib(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return 0 }
        return UInt32(crc32(0, base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    @Test func checkValue() {
        let text = Array("123456789".utf8)
        #expect(text.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect(CRC32.checksum(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
    }

    @Test func matchesZlibOnEveryLengthAndAlignment() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<600).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes.withUnsafeBytes { all in
            for offset in 0..<8 {
                for length in 0...(all.count - offset) where length < 80 || length % 7 == 0 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)])
                    #expect(CRC32.checksum(slice) == Self.zlib(slice), "offset \(offset), length \(length)")
                }
            }
        }
    }
}
