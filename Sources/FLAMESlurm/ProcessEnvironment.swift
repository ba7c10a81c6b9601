#if canImport(Glibc)
import Glibc
#endif

/// This process's environment and file system, as the launcher needs them.
enum ProcessEnvironment {
    static func value(of name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// The path this process's executable was started from (`/proc/self/exe`'s target).
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "/proc/self/exe" }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
