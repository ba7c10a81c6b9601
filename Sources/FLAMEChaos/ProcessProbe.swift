import FLAME
#if canImport(Glibc)
import Glibc
#endif

/// This process's file descriptors, threads, zombie children and resident memory, read
/// from /proc: what must not grow while a pool is abused.
public enum ProcessProbe {
    public struct Sample: Sendable, CustomStringConvertible {
        public var fileDescriptors: Int
        public var threads: Int
        public var zombieChildren: Int { zombies.count }
        /// Children exited and not yet reaped. One just exiting is normal; one still here a
        /// second later is a leak.
        public var zombies: Set<Int32>
        public var residentBytes: UInt64

        public var description: String {
            "fds \(fileDescriptors), threads \(threads), zombies \(zombieChildren), RSS \(residentBytes / 1_048_576) MB"
        }
    }

    public static func sample() -> Sample {
        Sample(
            fileDescriptors: directory("/proc/self/fd").count - 1,  // less the one listing it
            threads: directory("/proc/self/task").count,
            zombies: Set(childProcesses().filter { $0.state == "Z" }.map(\.pid)),
            residentBytes: ResourceUsage.residentBytes())
    }

    /// The pids of this process's children (whose command is `command`, when given), running
    /// or exited and not yet reaped.
    public static func children(command: String? = nil) -> Set<Int32> {
        Set(childProcesses().filter { command == nil || String($0.command) == command }.map(\.pid))
    }

    /// Every child of this process with its command and its state letter from
    /// /proc/PID/stat (`Z`: zombie).
    private static func childProcesses() -> [(pid: Int32, command: Substring, state: Substring)] {
        let me = getpid()
        var children: [(pid: Int32, command: Substring, state: Substring)] = []
        for entry in directory("/proc") {
            guard let pid = Int32(entry), let stat = read("/proc/\(pid)/stat"), let open = stat.firstIndex(of: "("),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command: state, ppid, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == me {
                children.append((pid, stat[stat.index(after: open)..<close], fields[0]))
            }
        }
        return children
    }

    /// Whether `pid` is a live process: not gone, and not a zombie waiting to be reaped.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }

    static func directory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(fd, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}
