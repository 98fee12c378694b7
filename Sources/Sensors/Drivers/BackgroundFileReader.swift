#if canImport(Glibc)
import Glibc
#endif

/// Reads a small file on a thread of its own, so that a read the kernel makes wait never blocks the
/// agent's loop: reading a DS18B20's `w1_slave` converts for 750 ms unless `therm_bulk_read` could
/// be triggered first, and under the systemd unit's sandbox (ProtectKernelTunables, a non-root
/// user) it cannot. `request` starts a read; `result` is nil until it is done.
final class BackgroundFileReader: @unchecked Sendable {
    enum Outcome: Equatable {
        case bytes([UInt8])
        case failed(errno: Int32)
    }

    let path: String
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var pending = false
    private var outcome: Outcome?
    private var started = false

    init(path: String) {
        self.path = path
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    /// Starts a read; false while the previous one is still running (a stuck 1-wire bus).
    func request() -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if pending { return false }
        if !started {
            var thread = pthread_t()
            // The thread keeps the reader alive for the life of the process; it sleeps between reads.
            let context = Unmanaged.passRetained(self).toOpaque()
            guard
                pthread_create(
                    &thread, nil,
                    { context in
                        Unmanaged<BackgroundFileReader>.fromOpaque(context!).takeUnretainedValue().serve()
                        return nil
                    }, context) == 0
            else {
                Unmanaged<BackgroundFileReader>.fromOpaque(context).release()
                return false
            }
            pthread_detach(thread)
            started = true
        }
        pending = true
        outcome = nil
        pthread_cond_signal(&condition)
        return true
    }

    /// The finished read, taken once; nil while it runs (or before any request).
    func take() -> Outcome? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !pending, let result = outcome else { return nil }
        outcome = nil
        return result
    }

    private func serve() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            pthread_mutex_lock(&mutex)
            while !pending { pthread_cond_wait(&condition, &mutex) }
            pthread_mutex_unlock(&mutex)
            let result: Outcome
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                result = .failed(errno: errno)
            } else {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                result = n < 0 ? .failed(errno: errno) : .bytes(Array(buffer[0..<n]))
                close(fd)
            }
            pthread_mutex_lock(&mutex)
            outcome = result
            pending = false
            pthread_mutex_unlock(&mutex)
        }
    }
}
