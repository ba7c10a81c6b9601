import FLAMEAdminProtocol

/// Number and glyph formatting shared by the views.
enum Format {
    static func micros(_ value: UInt64, unicode: Bool) -> String { Units.micros(value, ascii: !unicode) }

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
