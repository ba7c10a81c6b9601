/// Number and glyph formatting shared by the views.
enum Format {
    static func micros(_ value: UInt64, unicode: Bool) -> String {
        switch value {
        case 0: "-"
        case ..<1_000: "\(value)\(unicode ? "µs" : "us")"
        case ..<1_000_000: oneDecimal(Double(value) / 1_000) + "ms"
        default: oneDecimal(Double(value) / 1_000_000) + "s"
        }
    }

    static func bytes(_ value: UInt64) -> String {
        if value >= 1 << 30 { return oneDecimal(Double(value) / Double(1 << 30)) + "G" }
        if value >= 1 << 20 { return oneDecimal(Double(value) / Double(1 << 20)) + "M" }
        return "\(value / 1024)K"
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60 < 10 ? "0" : "")\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60 < 10 ? "0" : "")\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// The last `width` samples as a sparkline scaled to their own maximum.
    static func sparkline(_ samples: [Double], width: Int, unicode: Bool) -> String {
        let glyphs: [Character] = unicode ? ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : ["_", ".", "-", "~", "=", "+", "*", "#"]
        let shown = samples.suffix(width)
        let top = shown.max() ?? 0
        let line = shown.map { value -> Character in
            guard top > 0, value > 0 else { return glyphs[0] }
            return glyphs[min(glyphs.count - 1, Int(value / top * Double(glyphs.count - 1) + 0.5))]
        }
        return String(repeating: " ", count: width - line.count) + String(line)
    }

    /// A horizontal bar of `width` cells filled to `fraction`.
    static func bar(_ fraction: Double, width: Int, unicode: Bool) -> String {
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded())))
        return String(repeating: unicode ? "█" : "#", count: filled) + String(repeating: unicode ? "░" : ".", count: width - filled)
    }

    static func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
        let clipped = String(text.prefix(width))
        let pad = String(repeating: " ", count: max(0, width - clipped.count))
        return right ? pad + clipped : clipped + pad
    }
}
