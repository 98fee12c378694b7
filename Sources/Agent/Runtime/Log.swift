#if canImport(Glibc)
import Glibc
#endif

/// Log lines to standard error. Under systemd (JOURNAL_STREAM set) each line starts with the
/// journald priority prefix (sd-daemon(3)), so `journalctl -p warning` works; otherwise with the
/// level's name. Secrets are never passed here: callers log paths and names, not contents.
public enum Log {
    public enum Level: Int32 { case error = 3, warning = 4, notice = 5, info = 6, debug = 7 }

    nonisolated(unsafe) static var journald: Bool = getenv("JOURNAL_STREAM") != nil
    nonisolated(unsafe) public static var minimum: Level = .info

    public static func error(_ message: @autoclosure () -> String) { write(.error, message()) }
    public static func warning(_ message: @autoclosure () -> String) { write(.warning, message()) }
    public static func notice(_ message: @autoclosure () -> String) { write(.notice, message()) }
    public static func info(_ message: @autoclosure () -> String) { write(.info, message()) }
    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message()) }

    static func write(_ level: Level, _ message: String) {
        guard level.rawValue <= minimum.rawValue else { return }
        let prefix = journald ? "<\(level.rawValue)>" : "\(name(level)): "
        var line = prefix + message + "\n"
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    static func name(_ level: Level) -> String {
        switch level {
        case .error: "error"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        case .debug: "debug"
        }
    }
}
