import DequeModule
import Synchronization

/// One line a runner wrote, as kept by the parent.
public struct OutputLine: Sendable, Equatable {
    public var stream: OutputStream
    public var text: String
}

/// The last lines a runner wrote to stdout/stderr, bounded, with a count of lines dropped to
/// stay within the bound.
final class OutputBuffer: Sendable {
    private struct State {
        var lines = Deque<OutputLine>()
        var dropped = 0
    }
    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    func append(_ line: OutputLine) {
        state.withLock { state in
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

    /// The kept lines (oldest first) and how many older ones were dropped.
    func contents() -> (lines: [OutputLine], dropped: Int) {
        state.withLock { (Array($0.lines), $0.dropped) }
    }
}
