/// A chip on a simulated bus.
public protocol SimulatedI2CDevice: AnyObject {
    /// One transaction: the bytes written, then `read` to fill. Returns false to not acknowledge.
    func transfer(write: UnsafeRawBufferPointer, read: UnsafeMutableRawBufferPointer) -> Bool
}
