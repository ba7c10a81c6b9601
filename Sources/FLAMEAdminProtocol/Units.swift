/// How the admin tools print the snapshot's units, the same in flamectl and flame-top.
public enum Units {
    /// `850µs`, `2.1ms`, `1.5s`; `-` for zero (no data). `ascii` writes `us`.
    public static func micros(_ value: UInt64, ascii: Bool = false) -> String {
        switch value {
        case 0: "-"
        case ..<1_000: "\(value)\(ascii ? "us" : "µs")"
        case ..<1_000_000: oneDecimal(Double(value) / 1_000) + "ms"
        default: oneDecimal(Double(value) / 1_000_000) + "s"
        }
    }

    /// `512K`, `11.0M`, `1.2G`.
    public static func bytes(_ value: UInt64) -> String {
        if value >= 1 << 30 { return oneDecimal(Double(value) / Double(1 << 30)) + "G" }
        if value >= 1 << 20 { return oneDecimal(Double(value) / Double(1 << 20)) + "M" }
        return "\(value / 1024)K"
    }

    /// `42s`, `3m05s`, `1h02m`, `2d4h`.
    public static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60 < 10 ? "0" : "")\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60 < 10 ? "0" : "")\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }

    /// Seconds in a duration as the tools take it on the command line: `1s`, `500ms`, `2`
    /// (seconds); nil when it is not one.
    public static func seconds(in text: String) -> Double? {
        let value: Double? =
            if text.hasSuffix("ms") { Double(text.dropLast(2)).map { $0 / 1000 } } else if text.hasSuffix("s") { Double(text.dropLast()) } else {
                Double(text)
            }
        guard let value, value.isFinite, value >= 0 else { return nil }
        return value
    }

    /// One decimal place, without Foundation.
    public static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths < 0 && tenths > -10 ? "-" : "")\(tenths / 10).\(abs(tenths % 10))"
    }
}
