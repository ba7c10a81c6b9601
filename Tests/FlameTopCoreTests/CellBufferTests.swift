import FlameTopCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct CellBufferTests {
    private func cells(_ text: String, width: Int = 10) -> [Character] {
        var buffer = CellBuffer(width: width, height: 1)
        buffer.put(text, x: 0, y: 0, role: .text)
        return (0..<width).map { buffer[$0, 0].character }
    }

    @Test func asciiBarsAndSymbolsTakeOneCellPerCharacter() {
        #expect(cells("ab █▁µs→") == ["a", "b", " ", "█", "▁", "µ", "s", "→", " ", " "])
    }

    @Test func combiningMarksAndEmojiSequencesStayOneCell() {
        #expect(cells("e\u{301}x█") == ["e\u{301}", "x", "█", " ", " ", " ", " ", " ", " ", " "])
        #expect(cells("▲\u{FE0F}z")[0..<2] == ["▲\u{FE0F}", "z"])
        #expect(cells("👩\u{200D}💻!")[0..<2] == ["👩\u{200D}💻", "!"])
    }

    @Test func textIsClippedAtTheLimitAndTheEdge() {
        var buffer = CellBuffer(width: 5, height: 1)
        #expect(buffer.put("█████████", x: 2, y: 0, role: .text) == 5)
        #expect(buffer.put("µµµ", x: 0, y: 0, role: .text, limit: 2) == 2)
        #expect(buffer.plainText == "µµ███")
    }
}
