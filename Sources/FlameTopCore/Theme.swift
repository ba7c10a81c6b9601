/// A colour as a theme file writes it.
public enum ThemeColor: Sendable, Equatable {
    /// The terminal's own foreground or background.
    case terminalDefault
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(UInt8)
    /// An index in the 256-colour palette.
    case indexed(UInt8)
    case rgb(UInt8, UInt8, UInt8)

    static let names: [String: UInt8] = [
        "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "bright-black": 8, "gray": 8, "grey": 8, "bright-red": 9, "bright-green": 10, "bright-yellow": 11,
        "bright-blue": 12, "bright-magenta": 13, "bright-cyan": 14, "bright-white": 15,
    ]

    /// Parses `#rrggbb`, `0`–`255` or a name; nil when it is none of those.
    init?(parsing word: String) {
        if word == "default" {
            self = .terminalDefault
        } else if let index = ThemeColor.names[word] {
            self = .ansi(index)
        } else if let number = UInt8(word) {
            self = number < 16 ? .ansi(number) : .indexed(number)
        } else if word.hasPrefix("#"), word.count == 7, let value = UInt32(word.dropFirst(), radix: 16) {
            self = .rgb(UInt8(value >> 16), UInt8((value >> 8) & 0xff), UInt8(value & 0xff))
        } else {
            return nil
        }
    }

    /// The nearest colour a terminal of `depth` can show.
    public func degraded(to depth: ColorDepth) -> ThemeColor {
        switch (self, depth) {
        case (_, .monochrome): return .terminalDefault
        case (.terminalDefault, _), (.ansi, _), (_, .trueColor): return self
        case (.indexed(let index), .ansi16): return .ansi(Self.ansi(ofIndexed: index))
        case (.indexed, .indexed256): return self
        case (.rgb(let r, let g, let b), .indexed256): return .indexed(Self.cubeIndex(r, g, b))
        case (.rgb(let r, let g, let b), .ansi16): return .ansi(Self.ansi(ofIndexed: Self.cubeIndex(r, g, b)))
        }
    }

    /// The xterm 6×6×6 cube (or grey ramp) entry nearest to an RGB colour.
    static func cubeIndex(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        func level(_ value: UInt8) -> Int { value < 48 ? 0 : value < 115 ? 1 : (Int(value) - 35) / 40 }
        if r == g && g == b {
            if r < 8 { return 16 }
            if r > 248 { return 231 }
            return UInt8(232 + (Int(r) - 8) / 10)
        }
        return UInt8(16 + 36 * level(r) + 6 * level(g) + level(b))
    }

    /// The ANSI colour nearest to a 256-palette entry.
    static func ansi(ofIndexed index: UInt8) -> UInt8 {
        if index < 16 { return index }
        if index >= 232 { return index < 244 ? 8 : 7 }
        let cube = Int(index) - 16
        let (r, g, b) = (cube / 36, (cube / 6) % 6, cube % 6)
        let bright = max(r, g, b) >= 4
        let bits = (r >= 2 ? 1 : 0) | (g >= 2 ? 2 : 0) | (b >= 2 ? 4 : 0)
        return UInt8(bits + (bright ? 8 : 0))
    }
}

extension ThemeColor {
    /// The colour number for a direct-colour terminal (terminfo `RGB`, e.g. `xterm-direct`):
    /// 0–7 are the ANSI colours, anything else is `0xRRGGBB`; -1 is the terminal's default.
    /// Bright ANSI and palette colours become their xterm RGB values, since 8–255 would be
    /// read as near-black RGB; RGB values below 8 are nudged to 8 for the same reason.
    public var directColorNumber: Int32 {
        switch self {
        case .terminalDefault: return -1
        case .ansi(let index) where index < 8: return Int32(index)
        case .ansi(let index), .indexed(let index):
            let (r, g, b) = Self.xtermRGB(ofIndexed: index)
            return Self.packed(r, g, b)
        case .rgb(let r, let g, let b): return Self.packed(r, g, b)
        }
    }

    private static func packed(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
        max(8, Int32(r) << 16 | Int32(g) << 8 | Int32(b))
    }

    /// xterm's default palette: 16 system colours, the 6×6×6 cube, the grey ramp.
    static func xtermRGB(ofIndexed index: UInt8) -> (UInt8, UInt8, UInt8) {
        let system: [(UInt8, UInt8, UInt8)] = [
            (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
            (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
        ]
        if index < 16 { return system[Int(index)] }
        if index >= 232 {
            let level = UInt8(8 + 10 * (Int(index) - 232))
            return (level, level, level)
        }
        let cube = Int(index) - 16
        func level(_ step: Int) -> UInt8 { step == 0 ? 0 : UInt8(55 + 40 * step) }
        return (level(cube / 36), level((cube / 6) % 6), level(cube % 6))
    }
}

/// How many colours the terminal shows.
public enum ColorDepth: Sendable, Comparable {
    case monochrome, ansi16, indexed256, trueColor
}

/// Text attributes a theme can ask for.
public enum TextAttribute: String, Sendable, CaseIterable {
    case bold, dim, reverse, underline
}

/// How one role is drawn.
public struct Style: Sendable, Equatable {
    public var foreground: ThemeColor = .terminalDefault
    public var background: ThemeColor = .terminalDefault
    public var attributes: Set<TextAttribute> = []

    public init(foreground: ThemeColor = .terminalDefault, background: ThemeColor = .terminalDefault, attributes: Set<TextAttribute> = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }
}

/// A bad theme file: which file, which line, what is wrong.
public struct ThemeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Colours by role, from a flat `key = value` file (see themes/README.md).
public struct Theme: Sendable, Equatable {
    public var name: String
    public var styles: [Role: Style]

    public init(name: String, styles: [Role: Style]) {
        self.name = name
        self.styles = styles
    }

    /// The style of `role`; roles a theme does not set look like `text`.
    public func style(_ role: Role) -> Style {
        styles[role] ?? styles[.text] ?? Style()
    }

    /// Every style with colours degraded to what a terminal of `depth` shows; monochrome
    /// keeps attributes (and makes selection reverse) so the screen stays usable.
    public func degraded(to depth: ColorDepth) -> Theme {
        var copy = self
        for (role, style) in styles {
            var style = style
            style.foreground = style.foreground.degraded(to: depth)
            style.background = style.background.degraded(to: depth)
            if depth == .monochrome, role == .selection || role == .dialogBorder { style.attributes.insert(.reverse) }
            copy.styles[role] = style
        }
        return copy
    }
}

/// Parses theme files and follows `inherits`.
public struct ThemeLoader: Sendable {
    /// Directories searched for `NAME.theme`, in order.
    public var searchPaths: [String]
    /// Reads a file's text, or nil when it does not exist.
    public var read: @Sendable (String) -> String?

    public init(searchPaths: [String], read: @escaping @Sendable (String) -> String?) {
        self.searchPaths = searchPaths
        self.read = read
    }

    /// Loads a theme by name (searched) or path (containing `/` or ending in `.theme`).
    public func load(_ nameOrPath: String) throws(ThemeError) -> Theme {
        try load(nameOrPath, seen: [])
    }

    private func locate(_ nameOrPath: String) throws(ThemeError) -> (path: String, text: String) {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
            guard let text = read(nameOrPath) else { throw ThemeError(file: nameOrPath, line: nil, message: "no such theme file") }
            return (nameOrPath, text)
        }
        for directory in searchPaths {
            let path = directory + "/" + nameOrPath + ".theme"
            if let text = read(path) { return (path, text) }
        }
        throw ThemeError(
            file: nameOrPath, line: nil, message: "no theme named \(nameOrPath) in \(searchPaths.joined(separator: ", "))")
    }

    private func load(_ nameOrPath: String, seen: [String]) throws(ThemeError) -> Theme {
        let (path, text) = try locate(nameOrPath)
        guard !seen.contains(path) else {
            throw ThemeError(file: path, line: nil, message: "inherits in a cycle: \((seen + [path]).joined(separator: " → "))")
        }
        var styles: [Role: Style] = [:]
        var parent: Theme?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Comments are whole lines starting with `#` (colours start with `#` too).
            let line = String(rawLine)
            guard !line.allSatisfy(\.isWhitespace), !line.trimmingWhitespace().hasPrefix("#") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ThemeError(file: path, line: number + 1, message: "expected `key = value`, got `\(line.trimmingWhitespace())`")
            }
            let (key, value) = (parts[0], parts[1])
            if key == "inherits" {
                parent = try load(value, seen: seen + [path])
                continue
            }
            guard let role = Role(rawValue: key) else {
                throw ThemeError(file: path, line: number + 1, message: "unknown role `\(key)` (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            do {
                styles[role] = try Self.style(value)
            } catch let message as ThemeMessage {
                throw ThemeError(file: path, line: number + 1, message: message.text)
            } catch {
                throw ThemeError(file: path, line: number + 1, message: "\(error)")
            }
        }
        let name = String(path.split(separator: "/").last ?? Substring(path)).replacing(".theme", with: "")
        return Theme(name: name, styles: (parent?.styles ?? [:]).merging(styles) { $1 })
    }

    private struct ThemeMessage: Error { let text: String }

    /// `[foreground] [on background] [attribute…]`.
    static func style(_ value: String) throws -> Style {
        var style = Style()
        var words = value.split(separator: " ").map(String.init)[...]
        if let first = words.first, ThemeColor(parsing: first) != nil, first != "on" {
            style.foreground = ThemeColor(parsing: first)!
            words = words.dropFirst()
        }
        if words.first == "on" {
            words = words.dropFirst()
            guard let word = words.first, let color = ThemeColor(parsing: word) else {
                throw ThemeMessage(text: "expected a colour after `on` (#rrggbb, 0–255 or a name)")
            }
            style.background = color
            words = words.dropFirst()
        }
        for word in words {
            guard let attribute = TextAttribute(rawValue: word) else {
                throw ThemeMessage(text: "`\(word)` is not a colour (#rrggbb, 0–255, a name) or an attribute (bold, dim, reverse, underline)")
            }
            style.attributes.insert(attribute)
        }
        return style
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
