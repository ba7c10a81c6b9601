import CNcurses
#if canImport(Glibc)
import Glibc
#endif
import FlameTopCore

/// The only code that talks to ncurses: setup and restore, colour pairs per theme role,
/// drawing the cells that changed, and reading keys.
final class Terminal {
    private(set) var unicode = false
    private var depth = ColorDepth.monochrome
    private var styles: [Role: (attributes: attr_t, pair: Int16)] = [:]
    private var previous: CellBuffer?

    var width: Int { Int(flame_cols()) }
    var height: Int { Int(flame_lines()) }

    /// Why the dashboard cannot be drawn here, or nil: it needs a terminal on standard input
    /// and output, of a type terminfo knows and can address (not `dumb`). Checked before
    /// anything is drawn, so a refusal is a clear message, not garbage or a bare ncurses error.
    static func problem() -> String? {
        guard isatty(0) != 0, isatty(1) != 0 else {
            return "the dashboard needs a terminal, and standard \(isatty(1) == 0 ? "output" : "input") is not one (flame-top --once --json prints a snapshot without one)"
        }
        let type = getenv("TERM").map { String(cString: $0) } ?? ""
        if type.isEmpty || type == "dumb" {
            return "TERM=\(type.isEmpty ? "(unset)" : type) cannot draw the dashboard: set TERM to your terminal's type (e.g. xterm-256color), or use --once --json"
        }
        return nil
    }

    /// Starts ncurses; nil, or why it could not (an unknown terminal type, say).
    func start() -> String? {
        unicode = flame_setlocale_utf8() != 0
        // newterm, not initscr: initscr exits the process with its own bare message when the
        // terminal type is unknown.
        let type = getenv("TERM").map { String(cString: $0) } ?? ""
        guard let screen = newterm(type, fdopen(1, "w"), fdopen(0, "r")) else {
            return "unknown terminal type TERM=\(type) (no terminfo entry for it: install ncurses-term, or set TERM=xterm-256color)"
        }
        _ = set_term(screen)
        // raw, not cbreak: Ctrl-C arrives as a key (and quits through the normal path, which
        // restores the terminal) instead of killing the process mid-screen.
        _ = raw()
        _ = noecho()
        _ = keypad(flame_stdscr(), true)
        _ = curs_set(0)
        set_escdelay(25)
        flame_enable_mouse()
        timeout(50)
        if has_colors(), getenv("NO_COLOR") == nil {
            _ = start_color()
            _ = use_default_colors()
            // Direct colour (terminfo RGB: xterm-direct, tmux-direct, …) draws themes'
            // #rrggbb exactly; ncurses cannot send 24-bit colour to other terminal types.
            depth = flame_direct_color() != 0 ? .trueColor : flame_colors() >= 256 ? .indexed256 : .ansi16
        }
        return nil
    }

    func stop() {
        _ = endwin()
    }

    /// Colour pairs and attributes for every role of `theme`, degraded to this terminal.
    func apply(_ theme: Theme) {
        let degraded = theme.degraded(to: depth)
        for (index, role) in Role.allCases.enumerated() {
            let style = degraded.style(role)
            var attributes: attr_t = 0
            if style.attributes.contains(.bold) { attributes |= flame_a_bold() }
            if style.attributes.contains(.dim) { attributes |= flame_a_dim() }
            if style.attributes.contains(.reverse) { attributes |= flame_a_reverse() }
            if style.attributes.contains(.underline) { attributes |= flame_a_underline() }
            var pair: Int16 = 0
            if depth != .monochrome {
                pair = Int16(index + 1)
                if depth == .trueColor {
                    _ = init_extended_pair(Int32(pair), style.foreground.directColorNumber, style.background.directColorNumber)
                } else {
                    let (fg, fgBold) = number(style.foreground)
                    let (bg, _) = number(style.background)
                    _ = init_pair(pair, fg, bg)
                    if fgBold { attributes |= flame_a_bold() }
                }
            }
            styles[role] = (attributes, pair)
        }
        previous = nil
    }

    /// A colour's number for init_pair; on 8-colour terminals bright colours become bold.
    private func number(_ color: ThemeColor) -> (Int16, Bool) {
        switch color {
        case .terminalDefault: return (-1, false)
        case .ansi(let index):
            if flame_colors() < 16, index >= 8 { return (Int16(index - 8), true) }
            return (Int16(index), false)
        case .indexed(let index): return (Int16(index), false)
        case .rgb: return number(color.degraded(to: .indexed256))
        }
    }

    /// Draws what changed since the last frame (everything after a resize or theme change).
    func draw(_ screen: CellBuffer) {
        if previous?.width != screen.width || previous?.height != screen.height { _ = clear() }
        for change in screen.changes(since: previous) {
            let style = styles[change.cell.role] ?? (0, 0)
            String(change.cell.character).withCString { flame_put(Int32(change.y), Int32(change.x), $0, style.attributes, style.pair) }
        }
        _ = refresh()
        previous = screen
    }

    /// Forgets the last frame, so the next draw repaints everything.
    func invalidate() { previous = nil }

    enum Input: Equatable {
        case key(Key)
        case click(x: Int, y: Int)
        case resize
    }

    /// The next key, or nil after 50 ms without one.
    func read() -> Input? {
        let code = getch()
        switch code {
        case ERR: return nil
        case flame_key_resize(): return .resize
        case flame_key_mouse():
            var x: Int32 = 0
            var y: Int32 = 0
            return flame_read_click(&x, &y) != 0 ? .click(x: Int(x), y: Int(y)) : nil
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_BACKSPACE, 127, 8: return .key(.backspace)
        case KEY_ENTER, 10, 13: return .key(.enter)
        case 9: return .key(.tab)
        case 3: return .key(.character("q"))  // Ctrl-C
        case 27: return .key(.escape)
        case 32...126: return .key(.character(Character(Unicode.Scalar(UInt8(code)))))
        default: return nil
        }
    }
}
