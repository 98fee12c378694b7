public enum PublishRefusal: Error, Equatable, CustomStringConvertible {
    /// The in-flight window (or its byte arena) is full: wait for acknowledgements.
    case windowFull
    /// QoS 0 needs a live connection; QoS 1 and 2 are queued in the window instead.
    case notConnected
    case invalid(PacketError)
    /// The PUBLISH would be `size` bytes, over the broker's packet limit (`maxOutgoingPacketSize`).
    case tooLarge(size: Int, limit: Int)

    public var description: String {
        switch self {
        case .windowFull: "in-flight window is full"
        case .notConnected: "not connected"
        case .invalid(let error): "\(error)"
        case .tooLarge(let size, let limit): "a message of \(size) bytes is over the broker's packet limit of \(limit) bytes"
        }
    }
}
