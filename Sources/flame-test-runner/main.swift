import FLAME
import FLAMETestJobs

// The runner executable of the integration tests: what an app's main looks like.
var resources = Resources()
resources[GreetingKey.self] = "hello from the app's own setup"
try await FLAME.bootstrap(resources: resources)
print("flame-test-runner is a runner helper for the test suite; it does nothing on its own")
