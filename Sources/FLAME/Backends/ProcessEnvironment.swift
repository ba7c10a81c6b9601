#if canImport(Glibc)
import Glibc
#endif

/// This process's environment and executable, as launchers and the runner side read them.
package enum ProcessEnvironment {
    /// The variable's value, when it is set and not empty.
    package static func value(of name: String) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        return String(cString: value)
    }

    package static func isExecutable(_ path: String) -> Bool {
        access(path, X_OK) == 0
    }

    /// The first executable `name` on `PATH`, if any.
    package static func onPath(_ name: String) -> String? {
        let path = value(of: "PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// The path this process's executable was started from (`/proc/self/exe`'s target,
    /// without the ` (deleted)` the kernel appends once the file was replaced: the path is
    /// then the new file's, which a runner started from it reports as another build).
    package static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return "/proc/self/exe" }
        let path = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.hasSuffix(" (deleted)") ? String(path.dropLast(" (deleted)".count)) : path
    }
}
