#if canImport(Glibc)
import Glibc
#endif

/// Where admin sockets live, how they are named, which ones a client may trust, and how
/// clients find them.
///
/// `$XDG_RUNTIME_DIR/flame/<app>-<pid>.sock`; without `XDG_RUNTIME_DIR`,
/// `$TMPDIR/flame-<uid>/` (`/tmp` by default), or `$HOME/.cache/flame-admin/` when another
/// user created that one first. `FLAME_ADMIN_SOCKET` overrides the whole path. A directory
/// holding admin sockets must be a real directory (not a symbolic link) owned by this user
/// and closed to group and others; the socket is 0600 and this user's. Servers and clients
/// check the same rule (``directoryProblem(_:)``).
public enum SocketLocation {
    public static let overrideVariable = "FLAME_ADMIN_SOCKET"

    /// The directories this user's admin sockets may be in, the preferred first.
    public static func directories() -> [String] {
        if let runtime = environment("XDG_RUNTIME_DIR") {
            return [runtime + "/flame"]
        }
        let temporary = environment("TMPDIR").map { $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 } ?? "/tmp"
        var candidates = [temporary + "/flame-\(geteuid())"]
        if let home = environment("HOME") ?? homeDirectory(), home != "/" {
            // For when someone else created the first one (it is in a directory anyone can
            // write): a place only this user can.
            candidates.append(home + "/.cache/flame-admin")
        }
        return candidates
    }

    /// The directory a parent puts its socket in: the first of ``directories()`` that does
    /// not exist yet or is fit for it.
    public static func directory() -> String {
        let candidates = directories()
        return candidates.first { access($0, F_OK) != 0 || directoryProblem($0) == nil } ?? candidates[0]
    }

    /// The socket path a parent named `app` with `pid` listens on.
    public static func path(app: String, pid: Int32) -> String {
        if let override = environment(overrideVariable) { return override }
        let safeApp = String(app.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return directory() + "/\(safeApp)-\(pid).sock"
    }

    /// `path` made absolute against the working directory.
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(cString: buffer)
        return (cwd == "/" ? "" : cwd) + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
    }

    /// The directory holding the socket at `path` (made absolute).
    public static func directory(of path: String) -> String {
        let absolute = absolute(path)
        let slash = absolute.lastIndex(of: "/")!
        return slash == absolute.startIndex ? "/" : String(absolute[..<slash])
    }

    /// Why `directory` must not hold this user's admin sockets, or nil: it must be a real
    /// directory, not a symbolic link, owned by this user and closed to group and others. A
    /// directory anyone else could write to (or one another user made) lets them put a
    /// socket of their own where this user's tools look.
    public static func directoryProblem(_ directory: String) -> String? {
        var info = stat()
        guard lstat(directory, &info) == 0 else { return "cannot examine it: \(String(cString: strerror(errno)))" }
        if info.st_mode & S_IFMT == S_IFLNK { return "it is a symbolic link" }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "it is not a directory" }
        guard info.st_uid == geteuid() else {
            return "it belongs to uid \(info.st_uid), not \(geteuid()) (another user created it: remove it, or set \(overrideVariable))"
        }
        guard info.st_mode & 0o077 == 0 else {
            return "its mode is \(String(info.st_mode & 0o777, radix: 8)); it must not be open to group or others (chmod 700)"
        }
        return nil
    }

    /// Why a client must not talk to the socket at `path`, or nil: its directory passes
    /// ``directoryProblem(_:)`` and it is a socket owned by this user.
    public static func socketProblem(_ path: String) -> String? {
        let directory = directory(of: path)
        if let problem = directoryProblem(directory) { return "its directory \(directory): \(problem)" }
        var info = stat()
        guard lstat(absolute(path), &info) == 0 else { return String(cString: strerror(errno)) }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return "it is not a socket" }
        guard info.st_uid == geteuid() else { return "it belongs to uid \(info.st_uid), not \(geteuid())" }
        return nil
    }

    /// A parent found in a socket directory.
    public struct Parent: Sendable, Equatable {
        public var app: String
        public var pid: Int32
        public var path: String
        /// Whether something listens on the socket (a dead parent, zombie or not, left a
        /// stale one that refuses connections).
        public var isAlive: Bool
    }

    /// What a look through ``directories()`` found: the parents in the trusted ones, and the
    /// ones refused, with why.
    public struct Discovery: Sendable {
        public var parents: [Parent] = []
        public var refused: [(directory: String, problem: String)] = []
        /// The directories looked in.
        public var directories: [String] = []
    }

    /// The parents with a socket in this user's trusted socket directories, oldest pid first.
    public static func discover() -> Discovery {
        var discovery = Discovery()
        for directory in directories() where access(directory, F_OK) == 0 {
            discovery.directories.append(directory)
            if let problem = directoryProblem(directory) {
                discovery.refused.append((directory, problem))
            } else {
                discovery.parents += parents(in: directory)
            }
        }
        discovery.parents.sort { $0.pid < $1.pid }
        return discovery
    }

    /// The parents with a socket in `directory` (not checked here), oldest pid first.
    public static func parents(in directory: String) -> [Parent] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var found: [Parent] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name.hasSuffix(".sock"), let dash = name.lastIndex(of: "-") else { continue }
            let pidText = name[name.index(after: dash)..<name.index(name.endIndex, offsetBy: -5)]
            guard let pid = Int32(pidText) else { continue }
            let path = directory + "/" + name
            found.append(Parent(app: String(name[..<dash]), pid: pid, path: path, isAlive: isListening(at: path)))
        }
        return found.sorted { $0.pid < $1.pid }
    }

    /// Whether something listens on the socket at `path`. Never blocks: a stopped parent's
    /// full backlog (`EAGAIN`) still means a listener; a refused connection means none.
    public static func isListening(at path: String) -> Bool {
        guard let address = address(of: path) else { return false }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return address.connect(probe) == 0 || errno == EAGAIN || errno == EINPROGRESS
    }

    public enum DirectoryError: Error, CustomStringConvertible {
        case cannotCreate(String, String)
        case unsafe(String, String)
        public var description: String {
            switch self {
            case .cannotCreate(let path, let why): "cannot create admin socket directory \(path): \(why)"
            case .unsafe(let path, let why): "refusing admin socket directory \(path): \(why)"
            }
        }
    }

    /// Creates `directory` (0700, with missing parents 0700) if needed and checks that only
    /// this user can use it (``directoryProblem(_:)``).
    public static func prepareDirectory(_ directory: String) throws(DirectoryError) {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            guard errno == ENOENT else { throw .cannotCreate(directory, String(cString: strerror(errno))) }
            var prefix = ""
            for component in directory.split(separator: "/") {
                prefix += "/" + component
                if mkdir(prefix, 0o700) != 0, errno != EEXIST { throw .cannotCreate(directory, String(cString: strerror(errno))) }
            }
        }
        if let problem = directoryProblem(directory) { throw .unsafe(directory, problem) }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func homeDirectory() -> String? {
        guard let entry = getpwuid(geteuid()), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }
}

extension SocketLocation {
    /// The address of the Unix socket at `path`, for `bind` and `connect`; nil when the
    /// path (with its NUL) does not fit in `sun_path`.
    public static func address(of path: String) -> UnixSocketAddress? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
            raw[bytes.count] = 0
        }
        return UnixSocketAddress(address: address)
    }
}

/// A filled-in `sockaddr_un`: the one way the admin server, its clients and the tests spell
/// a socket path for the kernel.
public struct UnixSocketAddress: Sendable {
    fileprivate var address: sockaddr_un

    /// `bind(fd, …)` to this address; 0 or -1 with errno, as `bind(2)`.
    public func bind(_ fd: Int32) -> Int32 { withSockaddr { Glibc.bind(fd, $0, $1) } }

    /// `connect(fd, …)` to this address; 0 or -1 with errno, as `connect(2)`.
    public func connect(_ fd: Int32) -> Int32 { withSockaddr { Glibc.connect(fd, $0, $1) } }

    private func withSockaddr(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = address
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
