import CFLAMEShims
#if canImport(Glibc)
import Glibc
#endif

/// The identity of an executable, compared between parent and runner so a runner built from
/// other sources (a deploy mid-flight, a stale binary) is refused instead of misreading jobs.
///
/// `FLAME_BUILD_ID`, when set, is the identity (deployments can pin it to a commit id).
/// Otherwise it is the executable's ELF build ID (the linker's hash of its output, in the
/// `NT_GNU_BUILD_ID` note): the same for a copy of the binary on another host, different for
/// every rebuild that changes it. An executable without one (linked with `--build-id=none`)
/// falls back to its file's device, inode, size and modification time, which a copy to
/// another host does not keep.
package enum BuildIdentity {
    static let environmentKey = "FLAME_BUILD_ID"

    /// This process's own identity: `environment`'s pin (a runner's environment), else this
    /// process's pin, else the build ID of its loaded image (right even when the file on
    /// disk was replaced since it started).
    package static func current(environment: [String: String]? = nil) -> String {
        if let pinned = pinned(in: environment) { return pinned }
        if let id = hex({ bytes, capacity in flame_own_build_id(bytes, capacity) }) { return id }
        return fileIdentity(of: "/proc/self/exe")
    }

    /// The identity of the executable at `path`: `environment`'s pin (the runner's own
    /// environment), else this process's pin, else the file's build ID.
    package static func of(path: String, environment: [String: String]? = nil) -> String {
        if let pinned = pinned(in: environment) { return pinned }
        if let id = hex({ bytes, capacity in flame_file_build_id(path, bytes, capacity) }) { return id }
        return fileIdentity(of: path)
    }

    private static func pinned(in environment: [String: String]?) -> String? {
        if let pinned = environment?[environmentKey], !pinned.isEmpty { return pinned }
        return ProcessEnvironment.value(of: environmentKey)
    }

    /// The build ID `read` copies out, in lowercase hex (as `readelf -n` and `file` show it).
    private static func hex(_ read: (UnsafeMutablePointer<UInt8>, Int32) -> Int32) -> String? {
        var bytes = [UInt8](repeating: 0, count: 64)
        let length = bytes.withUnsafeMutableBufferPointer { read($0.baseAddress!, Int32($0.count)) }
        guard length > 0, length <= bytes.count else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes[..<Int(length)].flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] }, as: UTF8.self)
    }

    private static func fileIdentity(of path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "unknown:\(path)" }
        return "file:\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }
}
