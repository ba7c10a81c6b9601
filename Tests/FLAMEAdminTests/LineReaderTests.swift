import FLAMEAdminProtocol
import Testing

@Suite(.timeLimit(.minutes(1))) struct LineReaderTests {
    @Test func linesSplitAcrossFeedsAndSeveralInOneFeed() {
        var reader = LineReader(maximumLength: 100)
        var items: [LineReader.Item] = []
        for chunk in ["ab", "c\nde", "f\n\ng", "h\n"] { items += reader.feed(Array(chunk.utf8)) }
        #expect(items == [.line(Array("abc".utf8)), .line(Array("def".utf8)), .line([]), .line(Array("gh".utf8))])
    }

    @Test func overlongLinesAreReportedOnceAndSkippedToTheirNewline() {
        var reader = LineReader(maximumLength: 4)
        var items = reader.feed(Array("12345".utf8))  // over the limit before its newline
        items += reader.feed(Array("678\nok\n123456\nfine\n".utf8))
        #expect(items == [.overlong, .line(Array("ok".utf8)), .overlong, .line(Array("fine".utf8))])
    }

    @Test func byteByByteFeedingGivesTheSameLines() {
        let text = Array("one\ntwo three\n\nfour\n".utf8)
        var whole = LineReader(maximumLength: 64)
        var single = LineReader(maximumLength: 64)
        let expected = whole.feed(text)
        let dribbled = text.flatMap { single.feed([$0]) }
        #expect(dribbled == expected)
        #expect(expected.count == 4)
    }
}
