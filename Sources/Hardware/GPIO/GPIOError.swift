#if canImport(Glibc)
import Glibc
#endif

public struct GPIOError: Error, Equatable, CustomStringConvertible {
    public let chip: String
    public let line: Int?
    public let operation: String
    public let errno: Int32

    public init(chip: String, line: Int?, operation: String, errno: Int32) {
        self.chip = chip; self.line = line; self.operation = operation; self.errno = errno
    }

    public var description: String {
        var text = "gpio \(chip)"
        if let line { text += " line \(line)" }
        text += ": \(operation)"
        if errno != 0 { text += ": \(String(cString: strerror(errno)))" }
        return text
    }
}
