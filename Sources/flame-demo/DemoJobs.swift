import FLAME
#if canImport(Glibc)
import Glibc
#endif

/// "Resizes an image": waits for its "download", burns CPU for a few milliseconds,
/// allocates a buffer, logs now and then, and fails on about one image in fifty.
struct Thumbnail: Job {
    var imageID: Int
    var width: Int

    func run() async throws -> Int {
        try await Task.sleep(for: .milliseconds(50 + (imageID * 13) % 150))
        let pixels = width * width
        var buffer = [UInt8](repeating: 0, count: pixels)
        var hash: UInt64 = 1469598103934665603
        for round in 0..<8 {
            for index in stride(from: 0, to: pixels, by: 7) {
                hash = (hash ^ UInt64(truncatingIfNeeded: index &+ round &+ imageID)) &* 1099511628211
                buffer[index] = UInt8(truncatingIfNeeded: hash)
            }
        }
        if imageID % 50 == 7 { throw ThumbnailError.corruptImage(id: imageID) }
        if imageID % 10 == 1 { print("thumbnail \(imageID): \(width)x\(width) done, checksum \(hash % 10_000)") }
        return Int(buffer[pixels / 2])
    }
}

enum ThumbnailError: Error, Codable, CustomStringConvertible {
    case corruptImage(id: Int)
    var description: String {
        switch self {
        case .corruptImage(let id): "image \(id) is corrupt"
        }
    }
}

/// "Builds a report": slower, mostly waiting; one in forty hangs past its call timeout.
struct Report: Job {
    var reportID: Int

    func run() async throws -> String {
        let milliseconds = reportID % 40 == 3 ? 5_000 : 100 + (reportID * 37) % 300
        try await Task.sleep(for: .milliseconds(milliseconds))
        print("report \(reportID) ready after \(milliseconds) ms")
        return "report-\(reportID)"
    }
}
