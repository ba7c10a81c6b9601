import FLAME
import FLAMETestJobs
#if canImport(Glibc)
import Glibc
#endif

// The runner executable of the integration tests: what an app's main looks like, plus two
// test modes (a forged runner, and a parent of its own runners).

// A forged runner: it proves the wrong token.
if let raw = getenv("FLAME_TEST_FORGE_TOKEN"), let parent = getenv("FLAME_PARENT") {
    let forged = String(cString: parent).replacing("\"token\":\"", with: "\"token\":\"\(String(cString: raw))")
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
