import FLAMEWire
#if canImport(Glibc)
import Glibc
#endif

/// What a runner learns from `FLAME_PARENT`: how to reach its parent and what to prove.
///
/// One environment variable holding the descriptor in the compact format, hex-encoded, so a
/// remote backend can add a TCP address without a new variable, and runners need no JSON
/// (nor Foundation, with its memory) to read it. The token is a per-runner secret; a runner
/// that cannot echo it is refused.
package struct ParentDescriptor: Codable, Sendable, Equatable {
    package static let environmentKey = "FLAME_PARENT"

    var version = 1
    package var runnerID: String
    package var token: String
    /// The build identity the parent expects the runner to report.
    package var buildID: String
    /// The parent's pid when the runner is its child (else 0): the runner exits if its
    /// parent is not this process.
    package var parentPID: Int32
    /// The inherited socket to the parent (local backend).
    package var fd: Int32?
    /// `host:port` of the parent's ``RunnerListener``, for runners that dial back over TCP.
    package var address: String?

    init(runnerID: String, token: String, buildID: String, parentPID: Int32, fd: Int32?, address: String? = nil) {
        self.runnerID = runnerID
        self.token = token
        self.buildID = buildID
        self.parentPID = parentPID
        self.fd = fd
        self.address = address
    }

    func encoded() -> String {
        let bytes = try! CompactEncoder().encode(self)  // a struct of strings and integers cannot fail
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    package static func decode(_ text: String) throws -> ParentDescriptor {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        let hex = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index + 1 < hex.count, let high = nibble(hex[index]), let low = nibble(hex[index + 1]) {
            bytes.append(high << 4 | low)
            index += 2
        }
        do {
            guard index == hex.count else { throw WireError.invalidValue("not hex") }
            return try CompactDecoder().decode(ParentDescriptor.self, from: bytes)
        } catch {
            throw FLAMEError(.notARunner, "\(environmentKey) is set but is not a valid descriptor: \(error)")
        }
    }

    /// A fresh random secret (128 bits, hex).
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

/// CPU time and resident memory of this process, for heartbeats (and the chaos suite's probe).
package enum ResourceUsage {
    package static func cpuNanoseconds() -> UInt64 {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        func nanos(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
        return nanos(usage.ru_utime) + nanos(usage.ru_stime)
    }

    /// Resident set size from /proc/self/statm.
    package static func residentBytes() -> UInt64 {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return 0 }
        let fields = buffer[..<count].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = UInt64(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
