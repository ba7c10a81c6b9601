import FLAME
import Testing

/// A runner's output is kept in a bounded ring: a flood costs the parent `capacity` lines,
/// and followers see how many they missed.
@Suite(.timeLimit(.minutes(1))) struct LineRingTests {
    @Test func keepsTheNewestLinesAndCountsTheDropped() {
        let ring = LineRing<Int>(capacity: 3)
        for line in 1...10 { ring.append(line) }
        let all = ring.lines()
        #expect(all.lines == [8, 9, 10] && all.dropped == 7 && all.next == 10)
        // Lines are numbered from 0 and `after: n` starts at number n: the kept 8, 9, 10 are 7, 8, 9.
        #expect(ring.lines(after: 8).lines == [9, 10])
        #expect(ring.lines(after: 2).lines == [8, 9, 10])  // asking for dropped lines gets what is kept
        #expect(ring.lines(last: 1).lines == [10])
        ring.append(11)
        #expect(ring.lines(after: all.next).lines == [11])  // a follower gets only what is new
    }

    @Test func aZeroCapacityRingKeepsNothing() {
        let ring = LineRing<String>(capacity: 0)
        ring.append("x")
        #expect(ring.lines().lines.isEmpty && ring.lines().dropped == 1)
    }
}
