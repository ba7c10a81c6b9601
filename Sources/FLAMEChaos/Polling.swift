/// Polls `condition` every `interval` until it holds or `timeout` passes (checked once more
/// at the deadline), and says whether it held. The one polling loop of the chaos suite and
/// of the tests' `eventually`.
package func poll(
    every interval: Duration = .milliseconds(10), within timeout: Duration, until condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
