/// Progress of a non-blocking connect or handshake.
public enum ConnectProgress: Equatable {
    case ready
    case wantRead
    case wantWrite
}
