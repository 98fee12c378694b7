import Syscalls

public enum AgentError: Error, CustomStringConvertible {
    case system(String, Errno)
    case config(String)
    case spool(String)

    public var description: String {
        switch self {
        case .system(let call, let errno): "\(call): \(errno)"
        case .config(let message): message
        case .spool(let message): message
        }
    }
}
