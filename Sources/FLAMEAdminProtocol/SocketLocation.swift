#if canImport(Glibc)
import Glibc
#endif

/// Where admin sockets live, how they are named, and how clients find them.
///
/// `$XDG_RUNTIME_DIR/flame/<app>-<pid>.sock`, or `/tmp/flame-<uid>/<app>-<pid>.sock` without
/// `XDG_RUNTIME_DIR`; `FLAME_ADMIN_SOCKET` overrides the whole path. The directory is 0700 and
/// must belong to this user; the socket is 0600.
public enum SocketLocation {
    public static let overrideVariable = "FLAME_ADMIN_SOCKET"

    /// The directory admin sockets of this user go in.
    public static func directory() -> String {
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return runtime + "/flame"
        }
        return "/tmp/flame-\(getuid())"
    }

    /// The socket path a parent named `app` with `pid` listens on.
    public static func path(app: String, pid: Int32) -> String {
        if let override = getenv(overrideVariable).map({ String(cString: $0) }), !override.isEmpty {
            return override
        }
        let safeApp = String(app.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return directory() + "/\(safeApp)-\(pid).sock"
    }

    /// A parent found in the socket directory.
    public struct Parent: Sendable, Equatable {
        public var app: String
        public var pid: Int32
        public var path: String
        /// Whether the process still exists (a dead one left a stale socket).
        public var isAlive: Bool
    }

    /// The parents with a socket in `directory`, oldest pid first.
    public static func parents(in directory: String = directory()) -> [Parent] {
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
            let alive = kill(pid, 0) == 0 || errno == EPERM
            found.append(Parent(app: String(name[..<dash]), pid: pid, path: directory + "/" + name, isAlive: alive))
        }
        return found.sorted { $0.pid < $1.pid }
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

    /// Creates `directory` (0700) if needed and checks that only this user can use it.
    public static func prepareDirectory(_ directory: String) throws(DirectoryError) {
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw .cannotCreate(directory, String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else { throw .cannotCreate(directory, String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unsafe(directory, "it is not a directory") }
        guard info.st_uid == getuid() else { throw .unsafe(directory, "it belongs to uid \(info.st_uid), not \(getuid())") }
        guard info.st_mode & 0o077 == 0 else {
            throw .unsafe(directory, "its mode is \(String(info.st_mode & 0o777, radix: 8)); it must not be open to group or others (chmod 700)")
        }
    }
}

/// Splits a byte stream into lines of at most `maximumLength` bytes. A longer line is
/// reported as overlong once and skipped up to its newline.
public struct LineReader: Sendable {
    public enum Item: Equatable, Sendable {
        case line([UInt8])
        case overlong
    }

    public let maximumLength: Int
    private var pending: [UInt8] = []
    private var skipping = false

    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    /// The complete lines in `bytes` (after what earlier feeds left pending). Works on whole
    /// runs between newlines, not byte by byte: a 16 KB snapshot line per 100 ms made the
    /// byte loop a quarter of flame-top's CPU.
    public mutating func feed(_ bytes: ArraySlice<UInt8>) -> [Item] {
        var items: [Item] = []
        var rest = bytes
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            let chunk = rest[rest.startIndex..<newline]
            if skipping {
                skipping = false
            } else if pending.count + chunk.count > maximumLength {
                items.append(.overlong)
            } else {
                pending.append(contentsOf: chunk)
                items.append(.line(pending))
            }
            pending.removeAll(keepingCapacity: true)
            rest = rest[rest.index(after: newline)...]
        }
        if !skipping {
            if pending.count + rest.count > maximumLength {
                items.append(.overlong)
                pending.removeAll()
                skipping = true
            } else {
                pending.append(contentsOf: rest)
            }
        }
        return items
    }

    public mutating func feed(_ bytes: [UInt8]) -> [Item] {
        feed(bytes[...])
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
