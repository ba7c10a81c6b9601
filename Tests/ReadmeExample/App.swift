import FLAME
struct Checksum: Job {                      // Codable fields are all that travels
    var text: String
    func run() async throws -> Int { text.utf8.reduce(0) { $0 &* 31 &+ Int($1) } }
}
@main struct App {
    static func main() async throws {
        try await FLAME.bootstrap()          // in a runner: serves jobs, never returns
        let pool = try await Pool(PoolConfiguration(name: "sums", max: 4, maxConcurrency: 8))
        let sum = try await pool.call(Checksum(text: "hello"), timeout: .seconds(5))
        pool.cast(Checksum(text: "fire and forget"))   // failures are logged, never lost
        print("checksum \(sum) computed in runner process")
        await pool.shutdown()
    }
}
