import DequeModule
import Synchronization

/// One line a runner wrote, as kept by the parent.
public struct OutputLine: Sendable, Equatable {
    public var stream: OutputStream
    public var text: String
}

/// The last lines of a source (a runner's stdout/stderr, the parent's log), bounded, with a
/// count of lines dropped to stay within the bound. Lines are numbered so followers can ask
/// for what came after the last one they saw.
public final class LineRing<Line: Sendable>: Sendable {
    private struct State {
        var lines = Deque<Line>()
        /// Sequence number of the next line appended; the first kept line is `next - lines.count`.
        var next: UInt64 = 0
        var dropped = 0
    }
    private let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public func append(_ line: Line) {
        state.withLock { state in
            state.next += 1
            guard capacity > 0 else {
                state.dropped += 1
                return
            }
            if state.lines.count == capacity {
                state.lines.removeFirst()
                state.dropped += 1
            }
            state.lines.append(line)
        }
    }

    /// Kept lines numbered after `sequence` (all kept lines when nil), the number to ask
    /// after next time, and how many lines were dropped in total.
    public func lines(after sequence: UInt64? = nil, last limit: Int? = nil) -> (lines: [Line], next: UInt64, dropped: Int) {
        state.withLock { state in
            let first = state.next - UInt64(state.lines.count)
            let start = Swift.max(sequence ?? first, first)
            var lines = Array(state.lines.dropFirst(Int(start - first)))
            if let limit, lines.count > limit { lines = Array(lines.suffix(limit)) }
            return (lines, state.next, state.dropped)
        }
    }
}

typealias OutputBuffer = LineRing<OutputLine>

extension LineRing where Line == OutputLine {
    /// The kept lines (oldest first) and how many older ones were dropped.
    func contents() -> (lines: [OutputLine], dropped: Int) {
        let (lines, _, dropped) = lines()
        return (lines, dropped)
    }
}
