/// Outcome of a non-blocking read or write.
public enum IOStatus: Equatable {
    case transferred(Int)
    /// Nothing now; poll for the given direction (TLS may need to write in order to read).
    case wouldBlock(wantWrite: Bool)
    case closed
}
