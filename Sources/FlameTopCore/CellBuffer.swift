/// What a cell is drawn as: a theme role, resolved to colours and attributes by a ``Theme``.
public enum Role: String, Sendable, CaseIterable, Hashable {
    case text = "text"
    case dim = "dim"
    case title = "title"
    case header = "table.header"
    case selection = "selection"
    case border = "border"
    case runnerBooting = "runner.booting"
    case runnerIdle = "runner.idle"
    case runnerBusy = "runner.busy"
    case runnerDraining = "runner.draining"
    case runnerExiting = "runner.exiting"
    case queue = "queue"
    case sparkQueue = "spark.queue"
    case sparkP99 = "spark.p99"
    case cpuBar = "bar.cpu"
    case failure = "failure"
    case footerKey = "footer.key"
    case footerText = "footer.text"
    case statusOK = "status.ok"
    case statusError = "status.error"
    case banner = "banner"
    case dialogBorder = "dialog.border"
    case dialogText = "dialog.text"

    /// One letter per role, for golden files of the role map.
    var letter: Character {
        switch self {
        case .text: "."
        case .dim: "d"
        case .title: "T"
        case .header: "H"
        case .selection: "S"
        case .border: "b"
        case .runnerBooting: "o"
        case .runnerIdle: "i"
        case .runnerBusy: "B"
        case .runnerDraining: "r"
        case .runnerExiting: "x"
        case .queue: "q"
        case .sparkQueue: "s"
        case .sparkP99: "p"
        case .cpuBar: "c"
        case .failure: "F"
        case .footerKey: "K"
        case .footerText: "k"
        case .statusOK: "O"
        case .statusError: "E"
        case .banner: "!"
        case .dialogBorder: "D"
        case .dialogText: "t"
        }
    }
}

/// One screen cell: a character (one column wide) and its role.
public struct Cell: Sendable, Equatable {
    public var character: Character
    public var role: Role

    public static let blank = Cell(character: " ", role: .text)
}

/// A screen's worth of cells: what `view` renders and the terminal layer draws.
///
/// Text is clipped at the buffer's edges and at a given width; the buffer never grows.
/// Goldens compare ``plainText`` and ``roleMap`` — never escape codes.
public struct CellBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes `text` from (x, y), at most `limit` columns (default: to the right edge).
    /// Returns the column after the last one written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role, limit: Int? = nil) -> Int {
        guard y >= 0, y < height else { return x }
        let end = min(width, x + (limit ?? width))
        var column = x
        // Most text is ASCII: one byte, one column, no grapheme breaking.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in text.utf8 {
                guard column < end else { break }
                if column >= 0 { self[column, y] = Cell(character: Character(Unicode.Scalar(byte)), role: role) }
                column += 1
            }
            return column
        }
        // Bars, sparklines, box drawing and `µ`: one scalar per character, so no grapheme
        // breaking either (it was a tenth of flame-top's CPU with 100 runners' CPU bars).
        if text.unicodeScalars.allSatisfy(Self.standsAlone) {
            for scalar in text.unicodeScalars {
                guard column < end else { break }
                if column >= 0 { self[column, y] = Cell(character: Character(scalar), role: role) }
                column += 1
            }
            return column
        }
        for character in text {
            guard column < end else { break }
            if column >= 0 { self[column, y] = Cell(character: character, role: role) }
            column += 1
        }
        return column
    }

    /// Whether `scalar` is a whole character whatever follows it: Latin-1 and Latin Extended,
    /// general punctuation, arrows, box drawing, block elements and geometric shapes — not
    /// combining marks, joiners or variation selectors.
    private static func standsAlone(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20..<0x7F, 0xA0..<0x300, 0x2010..<0x20D0, 0x2100..<0x2C00: true
        default: false
        }
    }

    /// Sets the role of a run of cells, keeping their characters.
    public mutating func paint(x: Int, y: Int, width count: Int, role: Role) {
        guard y >= 0, y < height else { return }
        for column in max(x, 0)..<min(width, x + count) { self[column, y].role = role }
    }

    /// Fills a rectangle with blanks of `role`.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, role: Role) {
        for row in max(y, 0)..<min(height, y + h) {
            for column in max(x, 0)..<min(width, x + w) { self[column, row] = Cell(character: " ", role: role) }
        }
    }

    /// The characters, one line per row, trailing blanks kept (the buffer's exact width).
    public var plainText: String {
        (0..<height).map { row in String(cells[(row * width)..<((row + 1) * width)].map(\.character)) }.joined(separator: "\n")
    }

    /// One letter per cell naming its role (see ``Role``), for golden files.
    public var roleMap: String {
        (0..<height).map { row in String(cells[(row * width)..<((row + 1) * width)].map(\.role.letter)) }.joined(separator: "\n")
    }

    /// The cells that differ from `previous` (all of them when sizes differ): what a terminal
    /// must redraw, so a quiet screen costs nearly nothing.
    public func changes(since previous: CellBuffer?) -> [(x: Int, y: Int, cell: Cell)] {
        guard let previous, previous.width == width, previous.height == height else {
            return cells.indices.map { ($0 % width, $0 / width, cells[$0]) }
        }
        return cells.indices.compactMap { cells[$0] != previous.cells[$0] ? ($0 % width, $0 / width, cells[$0]) : nil }
    }
}
