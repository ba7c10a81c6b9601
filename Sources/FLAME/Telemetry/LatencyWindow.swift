import Histogram
import Synchronization

/// Percentiles of a latency distribution, in microseconds.
public struct LatencySummary: Sendable, Equatable {
    public var count: UInt64
    public var p50Microseconds: UInt64
    public var p95Microseconds: UInt64
    public var p99Microseconds: UInt64
    public var maxMicroseconds: UInt64

    public static let empty = LatencySummary(count: 0, p50Microseconds: 0, p95Microseconds: 0, p99Microseconds: 0, maxMicroseconds: 0)
}

/// Latencies recorded over a sliding window (default: the last 60 s in six 10 s slices),
/// kept in HdrHistograms with two significant digits (≤ 1 % error, a few KiB per slice).
final class LatencyWindow: Sendable {
    private struct Slice {
        var epoch: Int64 = -1
        var histogram = Histogram<UInt32>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }
    private let sliceLength: Duration
    private let origin = ContinuousClock.now
    private let slices: Mutex<[Slice]>

    init(window: Duration = .seconds(60), sliceCount: Int = 6) {
        precondition(sliceCount > 0 && window > .zero)
        sliceLength = window / sliceCount
        slices = Mutex(Array(repeating: Slice(), count: sliceCount))
    }

    private func epoch(at instant: ContinuousClock.Instant) -> Int64 {
        (instant - origin).nanoseconds / max(sliceLength.nanoseconds, 1)
    }

    func record(_ latency: Duration, at now: ContinuousClock.Instant = .now) {
        let microseconds = UInt64(clamping: max(latency.nanoseconds / 1_000, 0))
        let epoch = epoch(at: now)
        slices.withLock { slices in
            let index = Int(epoch % Int64(slices.count))
            if slices[index].epoch != epoch {
                slices[index].histogram.reset()
                slices[index].epoch = epoch
            }
            _ = slices[index].histogram.record(Swift.min(microseconds, 3_600_000_000))
        }
    }

    /// Percentiles over the slices still inside the window at `now`.
    func summary(at now: ContinuousClock.Instant = .now) -> LatencySummary {
        let current = epoch(at: now)
        let merged: Histogram<UInt32>? = slices.withLock { slices in
            var merged: Histogram<UInt32>?
            for slice in slices where slice.epoch > current - Int64(slices.count) && slice.histogram.totalCount > 0 {
                if merged == nil { merged = slice.histogram } else { merged!.add(slice.histogram) }
            }
            return merged
        }
        guard let merged else { return .empty }
        return LatencySummary(
            count: merged.totalCount, p50Microseconds: merged.valueAtPercentile(50),
            p95Microseconds: merged.valueAtPercentile(95), p99Microseconds: merged.valueAtPercentile(99),
            maxMicroseconds: merged.max)
    }
}
