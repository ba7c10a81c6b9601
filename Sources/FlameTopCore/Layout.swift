/// Where the panes sit on a screen of a given size. `view` draws by it and mouse clicks are
/// mapped through it, so both always agree.
public struct Layout: Sendable, Equatable {
    /// The pools table's header row; pool rows follow it.
    public let poolHeaderY = 2
    /// Index (in `visiblePools`) of the first pool row shown, and how many are shown.
    public var firstPool = 0
    public var poolRows = 0
    /// The row after the pools table.
    public var afterPools = 2
    /// The runners pane's title row (its header is the next row, runner rows after that), or
    /// nil when there is no room or no pool.
    public var runnersTop: Int?
    public var runnersBottom = 0
    /// Index (in `visibleRunners`) of the first runner row shown.
    public var firstRunner = 0
    /// The status line's row; the footer is below it.
    public var bottom = 0

    public init(model: Model, width: Int, height: Int) {
        bottom = height - 2
        guard let snapshot = model.snapshot else { return }
        if !snapshot.pools.isEmpty {
            let maxRows = max(3, (bottom - poolHeaderY) / 3)
            firstPool = max(0, model.selectedPool - maxRows + 1)
            poolRows = max(0, min(maxRows, model.visiblePools.count - firstPool))
            afterPools = poolHeaderY + 1 + poolRows
        }
        let logRows = model.showLogs ? max(3, Int(Double(bottom - afterPools) * model.logSplit)) : 0
        runnersBottom = bottom - logRows
        if afterPools + 1 < runnersBottom, model.currentPool != nil {
            runnersTop = afterPools + 1
            let rows = runnersBottom - afterPools - 3
            firstRunner = max(0, model.selectedRunner - rows + 1)
        }
    }

    /// The pool row at screen row `y`, as an index in `visiblePools`.
    public func pool(atRow y: Int) -> Int? {
        let row = y - poolHeaderY - 1
        return row >= 0 && row < poolRows ? firstPool + row : nil
    }

    /// The runner row at screen row `y`, as an index in `visibleRunners` (may be past its end).
    public func runner(atRow y: Int) -> Int? {
        guard let top = runnersTop, y >= top + 2, y < runnersBottom else { return nil }
        return firstRunner + (y - top - 2)
    }
}
