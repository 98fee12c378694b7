#if canImport(Glibc)
import Syscalls
import Glibc
#endif

/// Why a connection ended or could not be made.
public enum ConnectionError: Error, CustomStringConvertible, Equatable {
    case transport(TransportError)
    case session(SessionFailure)
    case encoding(PacketError)

    public var description: String {
        switch self {
        case .transport(let e): "\(e)"
        case .session(let e): "\(e)"
        case .encoding(let e): "\(e)"
        }
    }
}
