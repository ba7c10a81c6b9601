#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Writes frames to a blocking stream socket from any thread, coalescing concurrent sends.
///
/// A sender appends its frame to a shared buffer; if nobody is writing, it becomes the
/// writer and flushes until the buffer is empty, picking up frames others appended
/// meanwhile. Under load many frames leave in one `send(2)`; alone, a frame leaves at once.
final class SocketWriter: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var spare: [UInt8] = []
        var writing = false
        var failed = false
    }
    private let fd: Int32
    private let state = Mutex(State())

    init(fd: Int32) {
        self.fd = fd
    }

    /// Appends one or more frames (`encode` writes them into the buffer) and flushes unless
    /// another sender is already flushing. Returns false once the socket has failed.
    @discardableResult
    func send(_ encode: (inout [UInt8]) -> Void) -> Bool {
        var batch: [UInt8]? = state.withLock { state in
            guard !state.failed else { return nil }
            encode(&state.pending)
            guard !state.writing else { return nil }
            state.writing = true
            var batch = state.spare
            swap(&batch, &state.pending)
            return batch
        }
        guard batch != nil else { return !state.withLock { $0.failed } }
        while var bytes = batch {
            let ok = writeAll(bytes)
            bytes.removeAll(keepingCapacity: true)
            batch = state.withLock { state in
                if !ok { state.failed = true }
                guard ok, !state.pending.isEmpty else {
                    state.writing = false
                    state.spare = bytes
                    return nil
                }
                swap(&bytes, &state.pending)
                return bytes
            }
            if !ok { return false }
        }
        return true
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }
}
