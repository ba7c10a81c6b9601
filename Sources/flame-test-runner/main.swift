import FLAME
import FLAMETestJobs
#if canImport(Glibc)
import Glibc
#endif

// The runner executable of the integration tests: what an app's main looks like, plus two
// test modes (a forged runner, and a parent of its own runners).

// A forged runner: it alters the first character of the token in its FLAME_PARENT (hex of the
// compact format: key "token", then u32 node length, tag, u32 string length, the string).
if getenv("FLAME_TEST_FORGE_TOKEN") != nil, let parent = getenv("FLAME_PARENT") {
    let hex = Array(String(cString: parent).utf8)
    var bytes = stride(from: 0, to: hex.count - 1, by: 2).map { UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    let key = Array("token".utf8)
    if let start = (0..<(bytes.count - key.count)).first(where: { Array(bytes[$0..<$0 + key.count]) == key }) {
        bytes[start + key.count + 9] = bytes[start + key.count + 9] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
    }
    let forged = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    setenv("FLAME_PARENT", forged, 1)
}

var resources = Resources()
resources[GreetingKey.self] = "hello from the app's own setup"
try await FLAME.bootstrap(resources: resources)

// Not a runner. `parent N`: boot N runners of this executable, print their pids, wait.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "parent", let count = Int(CommandLine.arguments[2]) {
    let pool = try await Pool(
        PoolConfiguration(name: "orphans", min: count, max: count),
        backend: LocalProcessBackend(arguments: []))
    for runner in await pool.status().runners {
        print("runner-pid \(runner.pid ?? -1)")
    }
    // Keep the runners busy so the test kills a parent with work in flight.
    for _ in 0..<count { pool.cast(Sleep(milliseconds: 60_000), timeout: .seconds(120)) }
    print("ready")
    fflush(nil)
    while true { try await Task.sleep(for: .seconds(3600)) }
}
print("flame-test-runner is a runner helper for the test suite; run with `parent N` to be a parent")
