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
