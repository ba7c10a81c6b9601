#if canImport(Glibc)
import Glibc
#endif

/// How a runner without an inherited socket reaches its parent: TCP to the listener address
/// in `FLAME_PARENT`, with blocking sockets (a runner has one connection and a reader thread).
enum ParentDialer {
    /// Connects to `host:port` (an IPv6 host in brackets), trying each address the name
    /// resolves to, with `TCP_NODELAY` (frames are small and latency-bound).
    static func connect(to address: String) throws -> Int32 {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw FLAMEError(.notARunner, "FLAME_PARENT's address \(address) is not host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw FLAMEError(.bootFailed, "cannot resolve the parent's host \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            let fd = socket(current.pointee.ai_family, current.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), current.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
                lastError = errno
                close(fd)
            } else {
                lastError = errno
            }
            entry = current.pointee.ai_next
        }
        throw FLAMEError(.bootFailed, "cannot connect to the parent at \(address): \(String(cString: strerror(lastError)))")
    }

    /// This machine's name, the runner's `host` in its hello.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(cString: buffer)
    }
}
