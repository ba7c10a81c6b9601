import CFLAMEShims
import FLAMEAdminProtocol
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One client's socket: a thread that reads request lines and writes queued replies.
///
/// Replies are queued from any thread into a ``ReplyBuffer`` bounded by `bufferLimit` bytes;
/// when a client reads too slowly, further lines are dropped (never blocking the sender) and
/// the client is told how many with a `dropped` line once there is room again.
final class AdminConnection: Sendable {
    private struct Output {
        var replies: ReplyBuffer
        var closed = false
        /// The size of the bytes ``flush()`` holds while it writes, kept here apart from the
        /// buffer's own accounting, so the measurement below does not trust what it measures.
        var writing = 0
        /// The most reply bytes this connection ever held at once: waiting plus being written.
        var heldHighWater = 0

        mutating func noteHeld() {
            heldHighWater = max(heldHighWater, replies.pending.count + writing)
        }
    }
    private let fd: Int32
    private let wakeFD: Int32
    private let output: Mutex<Output>

    init(fd: Int32, bufferLimit: Int) {
        self.fd = fd
        self.wakeFD = flame_eventfd()
        output = Mutex(Output(replies: ReplyBuffer(limit: bufferLimit)))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Queues `reply`; dropped (and counted) when the client's buffer is full.
    func send(_ reply: AdminReply, id: Int? = nil) {
        guard let line = try? AdminCodec.line(reply, id: id) else { return }
        send(line: line)
    }

    /// Queues an encoded line (with its newline).
    func send(line: [UInt8]) {
        let queued = output.withLock { output -> Bool in
            guard !output.closed, output.replies.queue(line) else { return false }
            output.noteHeld()
            return true
        }
        if queued { wake() }
    }

    /// The most bytes this client's replies ever took at once, measured from the arrays
    /// themselves; the buffer limit promises at most that limit.
    var bufferedBytesHighWater: Int { output.withLock { $0.heldHighWater } }

    /// Closes the connection from outside (server shutdown).
    func close() {
        output.withLock { $0.closed = true }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Runs until the client hangs up or ``close()`` is called; `onLine` gets every complete
    /// line (or `.overlong`).
    func serve(onLine: (LineReader.Item) -> Void) {
        var reader = LineReader(maximumLength: AdminCodec.maximumLineLength)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        loop: while true {
            let (wantsWrite, closed) = output.withLock { (!$0.replies.pending.isEmpty, $0.closed) }
            if closed { break }
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0),
                pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1].revents != 0 {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
            }
            if fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { break }
                if count < 0, errno != EAGAIN, errno != EINTR { break }
                if count > 0 {
                    for item in reader.feed(buffer[..<count]) { onLine(item) }
                }
            }
            if !flush() { break loop }
        }
        output.withLock { $0.closed = true }
        Glibc.close(fd)
        Glibc.close(wakeFD)
    }

    /// Writes what the socket takes now; false when the client is gone.
    private func flush() -> Bool {
        let bytes = output.withLock { output in
            let bytes = output.replies.takeForWriting()
            output.writing = bytes.count
            output.noteHeld()
            return bytes
        }
        guard !bytes.isEmpty else { return true }
        var written = 0
        var gone = false
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL)) }
            if result < 0 {
                if errno == EINTR { continue }
                gone = errno != EAGAIN
                break
            }
            written += result
        }
        output.withLock { output in
            output.replies.wrote(written, of: bytes)
            output.writing = 0
            output.noteHeld()
        }
        return !gone
    }
}
